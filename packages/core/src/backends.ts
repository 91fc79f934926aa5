import type { Config } from './config.ts';
import type { Clock } from './clock.ts';
import type { Logger } from './log.ts';
import type { EventStore } from './ports/event-store.ts';
import type { DeliveryStore } from './ports/delivery-store.ts';
import type { MetadataStore } from './ports/metadata-store.ts';
import type { Queue } from './ports/queue.ts';
import type { IdempotencyStore } from './ports/idempotency-store.ts';
import type { RateLimiter } from './ports/rate-limiter.ts';
import type { EventAcceptor } from './ports/event-acceptor.ts';
import type { MailOutbox, Mailer } from './ports/mailer.ts';
import type { DemoStore } from './ports/demo-store.ts';
import { DependencyError } from './errors.ts';
import { openSqliteBackends, type SqliteBackends } from './backends/sqlite/index.ts';
import { createMemoryRateLimiter } from './backends/memory/rate-limiter.ts';
import { DualWriteEventAcceptor } from './backends/dual-write-acceptor.ts';
import { SqliteDemoStore } from './backends/sqlite/demo-store.ts';
import { SqliteOutboxMailer } from './backends/sqlite/outbox-mailer.ts';
import { MemoryDemoStore } from './backends/memory/demo-store.ts';
import { MemoryOutboxMailer } from './backends/memory/outbox-mailer.ts';
import { createResendMailer } from './backends/resend/mailer.ts';
import { resolveSecretCipher } from './secret-key.ts';

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

/** Every port a service may use, built from configuration. Services never see which backend it is. */
export interface Backends {
  eventStore: EventStore;
  deliveryStore: DeliveryStore;
  metadataStore: MetadataStore;
  queue: Queue;
  idempotencyStore: IdempotencyStore;
  rateLimiter: RateLimiter;
  eventAcceptor: EventAcceptor;
  /** The demo's notification emails: Resend when `TRIGGERS_RESEND_API_KEY` is set, else the outbox. */
  mailer: Mailer;
  /** What the outbox holds (empty when the mailer is Resend). */
  mailOutbox: MailOutbox;
  /** The demo back end's own state (its customer and key): the SQLite file, else process memory. */
  demoStore: DemoStore;
  readiness: ReadinessCheck[];
  /** True when the data lives in a local folder (embedded mode): the admin token may be kept there. */
  embedded: boolean;
  close(): Promise<void>;
}

/**
 * What a service uses beyond the stores and the queue. A backend a service does not use is not
 * opened: it cannot stop the service from starting, nor make its `/ready` fail.
 */
export interface BackendNeeds {
  /** The rate limiter and the idempotency store (Redis when `TRIGGERS_CACHE=redis`): ingest only. Default true. */
  cache?: boolean;
  /**
   * The event and delivery stores, the queue and the event acceptor. Default true; false for the
   * Subscription controller, which uses the metadata store only (so DynamoDB, SQS or Kafka are
   * neither opened nor on its `/ready`, and its pod needs no access to them).
   */
  pipeline?: boolean;
}

/**
 * The only place that switches on a backend kind. Each distributed adapter package is loaded only
 * when chosen, so the embedded default never loads a cloud SDK.
 */
export async function createBackends(config: Config, options: { clock: Clock; log: Logger; needs?: BackendNeeds }): Promise<Backends> {
  const { backends: b } = config;
  const closers: (() => Promise<void>)[] = [];
  const readiness: ReadinessCheck[] = [];
  const pipeline = options.needs?.pipeline !== false;
  const usesSqlite = (pipeline && (b.eventStore === 'sqlite' || b.queue === 'sqlite')) || b.metadataStore === 'sqlite' || b.cache === 'memory';
  // Webhook secrets are encrypted at rest: with TRIGGERS_SECRET_KEY, else (SQLite metadata) the data folder's key.
  const { cipher: secrets } = resolveSecretCipher({ configured: config.secretKeys, embedded: b.metadataStore === 'sqlite', dataDir: config.dataDir });
  let sqlite: SqliteBackends | undefined;
  if (usesSqlite) {
    sqlite = await openSqliteBackends({
      dataDir: config.dataDir,
      synchronous: b.sqlite.synchronous,
      maxReceives: config.queue.maxReceives,
      secrets,
      clock: options.clock,
    });
    closers.push(() => sqlite!.close());
    readiness.push({ name: 'sqlite', check: () => sqlite!.eventStore.ping() });
  }

  try {
    let postgres: import('./backends/postgres/index.ts').PostgresBackends | undefined;
    if ((pipeline && b.eventStore === 'postgres') || b.metadataStore === 'postgres') {
      const { openPostgresBackends } = await import('./backends/postgres/index.ts');
      postgres = await openPostgresBackends({ url: b.postgres.url!, poolMax: b.postgres.poolMax, log: options.log, secrets });
      closers.push(() => postgres!.close());
      readiness.push({ name: 'postgres', check: () => postgres!.ping() });
    }

    let dynamo: import('./backends/dynamodb/index.ts').DynamoBackends | undefined;
    if (pipeline && b.eventStore === 'dynamodb') {
      const { openDynamoBackends } = await import('./backends/dynamodb/index.ts');
      dynamo = await openDynamoBackends({ ...b.dynamodb, region: b.aws.region });
      closers.push(() => dynamo!.close());
      readiness.push({ name: 'dynamodb', check: () => dynamo!.ping() });
    }

    let queue: Queue;
    if (!pipeline) {
      queue = notOpenedPort<Queue>(b.queue, 'queue');
    } else if (b.queue === 'sqs') {
      const { openSqsQueue } = await import('./backends/sqs/index.ts');
      queue = await openSqsQueue({ ...b.sqs, region: b.aws.region, maxReceives: config.queue.maxReceives });
    } else if (b.queue === 'kafka') {
      const { openKafkaQueue } = await import('./backends/kafka/index.ts');
      queue = await openKafkaQueue({ brokers: b.kafka.brokers!, topicPrefix: b.kafka.topicPrefix, maxReceives: config.queue.maxReceives, log: options.log });
    } else {
      queue = sqlite!.queue;
    }
    if (pipeline && b.queue !== 'sqlite') {
      closers.push(() => queue.close());
      readiness.push({ name: b.queue, check: () => queue.ping() });
    }

    let rateLimiter: RateLimiter;
    let idempotencyStore: IdempotencyStore;
    if (b.cache === 'redis' && options.needs?.cache === false) {
      // Not this service's: a Redis outage must not stop it from starting or make it unready.
      rateLimiter = notOpenedPort<RateLimiter>('redis', 'rate limiter');
      idempotencyStore = notOpenedPort<IdempotencyStore>('redis', 'idempotency store');
    } else if (b.cache === 'redis') {
      const { openRedisBackends } = await import('./backends/redis/index.ts');
      const redis = await openRedisBackends({ url: b.redis.url!, log: options.log });
      closers.push(() => redis.close());
      readiness.push({ name: 'redis', check: () => redis.ping() });
      rateLimiter = redis.rateLimiter;
      idempotencyStore = redis.idempotencyStore;
    } else {
      rateLimiter = createMemoryRateLimiter({ clock: options.clock });
      closers.push(() => rateLimiter.close());
      idempotencyStore = sqlite!.idempotencyStore;
    }

    const stores = !pipeline
      ? { eventStore: notOpenedPort<EventStore>(b.eventStore, 'event store'), deliveryStore: notOpenedPort<DeliveryStore>(b.eventStore, 'delivery store') }
      : b.eventStore === 'postgres'
        ? { eventStore: postgres!.eventStore, deliveryStore: postgres!.deliveryStore }
        : b.eventStore === 'dynamodb'
          ? { eventStore: dynamo!.eventStore, deliveryStore: dynamo!.deliveryStore }
          : { eventStore: sqlite!.eventStore as EventStore, deliveryStore: sqlite!.deliveryStore as DeliveryStore };
    const metadataStore: MetadataStore = b.metadataStore === 'postgres' ? postgres!.metadataStore : sqlite!.metadataStore;

    // One SQLite file for events, queue and idempotency: the transactional outbox. Otherwise a dual write backed by the sweeper.
    const eventAcceptor: EventAcceptor = !pipeline
      ? notOpenedPort<EventAcceptor>(b.eventStore, 'event acceptor')
      : b.eventStore === 'sqlite' && b.queue === 'sqlite' && b.cache === 'memory'
        ? sqlite!.eventAcceptor
        : new DualWriteEventAcceptor(stores.eventStore, queue, idempotencyStore, options.log);
    // Closed first (closers run in reverse): calls still waiting reach the store and queue before they close.
    closers.push(() => eventAcceptor.close());

    // The demo's state and outbox live in the embedded SQLite file when there is one.
    const outbox = sqlite ? new SqliteOutboxMailer(sqlite.db, config.mail.from, options.clock) : new MemoryOutboxMailer(config.mail.from, options.clock);
    const demoStore: DemoStore = sqlite ? new SqliteDemoStore(sqlite.db, options.clock) : new MemoryDemoStore();
    const mailer: Mailer = config.mail.resend
      ? createResendMailer({ apiKey: config.mail.resend.apiKey, baseUrl: config.mail.resend.baseUrl, from: config.mail.from })
      : outbox;

    return {
      ...stores,
      metadataStore,
      mailer,
      mailOutbox: outbox,
      demoStore,
      queue,
      idempotencyStore,
      rateLimiter,
      eventAcceptor,
      embedded: usesSqlite,
      readiness,
      close: async () => {
        for (const close of closers.reverse()) await close().catch(() => undefined);
      },
    };
  } catch (error) {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    throw error;
  }
}

function notOpened(kind: string, port: string): DependencyError {
  return new DependencyError(kind, `the ${port} is not opened in this service (it declared no need for it)`, { retryable: false });
}

/**
 * Stands in for a port a service declared it does not use (`needs`): every call rejects with a
 * non-retryable DependencyError naming it; `ping` and `close` succeed (nothing is open).
 */
function notOpenedPort<T extends object>(kind: string, port: string): T {
  return new Proxy({} as T, {
    get(_target, property) {
      if (property === 'kind') return kind;
      // Not a thenable, and no symbol-keyed protocol (inspection, iteration) pretends to exist.
      if (property === 'then' || typeof property === 'symbol') return undefined;
      if (property === 'ping' || property === 'close') return async () => {};
      return () => Promise.reject(notOpened(kind, port));
    },
  });
}
