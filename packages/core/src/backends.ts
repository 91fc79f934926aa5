import type { Config } from './config.ts';
import type { Clock } from './clock.ts';
import type { Logger } from './log.ts';
import type { EventStore } from './ports/event-store.ts';
import type { DeliveryStore } from './ports/delivery-store.ts';
import type { MetadataStore } from './ports/metadata-store.ts';
import type { ReplayStore } from './ports/replay-store.ts';
import type { Queue } from './ports/queue.ts';
import type { IdempotencyStore } from './ports/idempotency-store.ts';
import type { RateLimiter } from './ports/rate-limiter.ts';
import type { EventAcceptor } from './ports/event-acceptor.ts';
import type { MailOutbox, Mailer } from './ports/mailer.ts';
import type { DemoStore } from './ports/demo-store.ts';
import { DependencyError } from './errors.ts';
import { openSqliteBackends, type SqliteBackends } from './backends/sqlite/index.ts';
import { checkFreeSpace } from './backends/sqlite/storage.ts';
import { createMemoryRateLimiter } from './backends/memory/rate-limiter.ts';
import { DualWriteEventAcceptor } from './backends/dual-write-acceptor.ts';
import { SqliteDemoStore } from './backends/sqlite/demo-store.ts';
import { SqliteOutboxMailer } from './backends/sqlite/outbox-mailer.ts';
import { MemoryDemoStore } from './backends/memory/demo-store.ts';
import { MemoryOutboxMailer } from './backends/memory/outbox-mailer.ts';
import { createResendMailer } from './backends/resend/mailer.ts';
import { resolveSecretCipher } from './secret-key.ts';
import type { SecretCipher } from './secret-cipher.ts';

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

/** Every port a service may use, built from configuration. Services never see which backend it is. */
export interface Backends {
  eventStore: EventStore;
  deliveryStore: DeliveryStore;
  metadataStore: MetadataStore;
  /** Bulk replay jobs, beside the metadata (SQLite or PostgreSQL). */
  replayStore: ReplayStore;
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

type Kinds = Config['backends'];
export type EventStoreKind = Kinds['eventStore'];
export type MetadataStoreKind = Kinds['metadataStore'];
export type QueueKind = Kinds['queue'];
export type CacheKind = Kinds['cache'];

/**
 * The engines a process may open, each at most once and only when a chosen port needs it (so the
 * embedded default never loads a cloud SDK). Opening one adds its `/ready` check and its closer.
 */
class Engines {
  private readonly opened = new Map<string, Promise<unknown>>();
  /** True once the SQLite file in the data folder is open (embedded mode: the admin token may be kept there). */
  sqliteOpened = false;

  constructor(
    readonly config: Config,
    readonly options: { clock: Clock; log: Logger; needs?: BackendNeeds },
    readonly secrets: SecretCipher,
    readonly closers: (() => Promise<void>)[],
    readonly readiness: ReadinessCheck[],
  ) {}

  sqlite(): Promise<SqliteBackends> {
    return this.open('sqlite', async () => {
      const sqlite = await openSqliteBackends({
        dataDir: this.config.dataDir,
        synchronous: this.config.backends.sqlite.synchronous,
        maxReceives: this.config.queue.maxReceives,
        secrets: this.secrets,
        clock: this.options.clock,
      });
      this.sqliteOpened = true;
      const ping = async () => {
        await sqlite.eventStore.ping();
        await checkFreeSpace(this.config.dataDir);
      };
      return { engine: sqlite, ping };
    });
  }

  postgres(): Promise<import('./backends/postgres/index.ts').PostgresBackends> {
    return this.open('postgres', async () => {
      const { openPostgresBackends } = await import('./backends/postgres/index.ts');
      const { url, poolMax } = this.config.backends.postgres;
      const postgres = await openPostgresBackends({ url: url!, poolMax, log: this.options.log, secrets: this.secrets });
      return { engine: postgres, ping: () => postgres.ping() };
    });
  }

  dynamodb(): Promise<import('./backends/dynamodb/index.ts').DynamoBackends> {
    return this.open('dynamodb', async () => {
      const { openDynamoBackends } = await import('./backends/dynamodb/index.ts');
      const dynamo = await openDynamoBackends({ ...this.config.backends.dynamodb, region: this.config.backends.aws.region });
      return { engine: dynamo, ping: () => dynamo.ping() };
    });
  }

  redis(): Promise<import('./backends/redis/index.ts').RedisBackends> {
    return this.open('redis', async () => {
      const { openRedisBackends } = await import('./backends/redis/index.ts');
      const redis = await openRedisBackends({ url: this.config.backends.redis.url!, log: this.options.log });
      return { engine: redis, ping: () => redis.ping() };
    });
  }

  /** A queue of a distributed engine: its own connection, check and closer. */
  async queue(kind: QueueKind, openQueue: () => Promise<Queue>): Promise<Queue> {
    return this.open(kind, async () => {
      const queue = await openQueue();
      return { engine: queue, ping: () => queue.ping() };
    });
  }

  private open<T extends { close(): Promise<void> }>(name: string, openEngine: () => Promise<{ engine: T; ping: () => Promise<void> }>): Promise<T> {
    let opening = this.opened.get(name) as Promise<T> | undefined;
    if (!opening) {
      opening = openEngine().then(({ engine, ping }) => {
        this.closers.push(() => engine.close());
        this.readiness.push({ name, check: ping });
        return engine;
      });
      this.opened.set(name, opening);
    }
    return opening;
  }
}

type PipelineStores = Pick<Backends, 'eventStore' | 'deliveryStore'>;
type CachePorts = Pick<Backends, 'rateLimiter' | 'idempotencyStore'>;

/**
 * One entry per backend kind of each port. The tables are exhaustive over the kinds config.ts
 * accepts: a new kind there is a compile error here until it has its entry, never a crash at start-up.
 */
const EVENT_STORES: Record<EventStoreKind, (engines: Engines) => Promise<PipelineStores>> = {
  sqlite: async (engines) => {
    const { eventStore, deliveryStore } = await engines.sqlite();
    return { eventStore, deliveryStore };
  },
  postgres: async (engines) => {
    const { eventStore, deliveryStore } = await engines.postgres();
    return { eventStore, deliveryStore };
  },
  dynamodb: async (engines) => {
    const { eventStore, deliveryStore } = await engines.dynamodb();
    return { eventStore, deliveryStore };
  },
};

const METADATA_STORES: Record<MetadataStoreKind, (engines: Engines) => Promise<MetadataStore>> = {
  sqlite: async (engines) => (await engines.sqlite()).metadataStore,
  postgres: async (engines) => (await engines.postgres()).metadataStore,
};

const REPLAY_STORES: Record<MetadataStoreKind, (engines: Engines) => Promise<ReplayStore>> = {
  sqlite: async (engines) => (await engines.sqlite()).replayStore,
  postgres: async (engines) => (await engines.postgres()).replayStore,
};

const QUEUES: Record<QueueKind, (engines: Engines) => Promise<Queue>> = {
  sqlite: async (engines) => (await engines.sqlite()).queue,
  sqs: (engines) =>
    engines.queue('sqs', async () => {
      const { openSqsQueue } = await import('./backends/sqs/index.ts');
      const { config } = engines;
      return openSqsQueue({ ...config.backends.sqs, region: config.backends.aws.region, maxReceives: config.queue.maxReceives });
    }),
  kafka: (engines) =>
    engines.queue('kafka', async () => {
      const { openKafkaQueue, groupTimingFor } = await import('./backends/kafka/index.ts');
      const { config } = engines;
      const { brokers, topicPrefix, sessionTimeoutMs } = config.backends.kafka;
      return openKafkaQueue({ brokers: brokers!, topicPrefix, maxReceives: config.queue.maxReceives, log: engines.options.log, timing: groupTimingFor(sessionTimeoutMs) });
    }),
};

const CACHES: Record<CacheKind, (engines: Engines) => Promise<CachePorts>> = {
  // Only with every store in the data folder (config.ts refuses it otherwise): one process, or processes sharing one file.
  memory: async (engines) => {
    const rateLimiter = createMemoryRateLimiter({ clock: engines.options.clock });
    engines.closers.push(() => rateLimiter.close());
    return { rateLimiter, idempotencyStore: (await engines.sqlite()).idempotencyStore };
  },
  redis: async (engines) => {
    if (engines.options.needs?.cache === false) {
      // Not this service's: a Redis outage must not stop it from starting or make it unready.
      return { rateLimiter: notOpenedPort<RateLimiter>('redis', 'rate limiter'), idempotencyStore: notOpenedPort<IdempotencyStore>('redis', 'idempotency store') };
    }
    const { rateLimiter, idempotencyStore } = await engines.redis();
    return { rateLimiter, idempotencyStore };
  },
};

/**
 * The only place that switches on a backend kind, through the tables above. config.ts has already
 * refused every combination that is not coherent (`checkBackendCombination`).
 */
export async function createBackends(config: Config, options: { clock: Clock; log: Logger; needs?: BackendNeeds }): Promise<Backends> {
  const { backends: b } = config;
  const closers: (() => Promise<void>)[] = [];
  const readiness: ReadinessCheck[] = [];
  const pipeline = options.needs?.pipeline !== false;
  // Webhook secrets are encrypted at rest: with TRIGGERS_SECRET_KEY, else (SQLite metadata) the data folder's key.
  const { cipher: secrets } = resolveSecretCipher({ configured: config.secretKeys, embedded: b.metadataStore === 'sqlite', dataDir: config.dataDir });
  const engines = new Engines(config, options, secrets, closers, readiness);

  try {
    const metadataStore = await METADATA_STORES[b.metadataStore](engines);
    const replayStore = await REPLAY_STORES[b.metadataStore](engines);
    const stores: PipelineStores = pipeline
      ? await EVENT_STORES[b.eventStore](engines)
      : { eventStore: notOpenedPort<EventStore>(b.eventStore, 'event store'), deliveryStore: notOpenedPort<DeliveryStore>(b.eventStore, 'delivery store') };
    const queue = pipeline ? await QUEUES[b.queue](engines) : notOpenedPort<Queue>(b.queue, 'queue');
    const { rateLimiter, idempotencyStore } = await CACHES[b.cache](engines);

    // One SQLite file for events, queue and idempotency: the transactional outbox. Otherwise a dual write backed by the sweeper.
    const eventAcceptor: EventAcceptor = !pipeline
      ? notOpenedPort<EventAcceptor>(b.eventStore, 'event acceptor')
      : b.eventStore === 'sqlite' && b.queue === 'sqlite' && b.cache === 'memory'
        ? (await engines.sqlite()).eventAcceptor
        : new DualWriteEventAcceptor(stores.eventStore, queue, idempotencyStore, options.log);
    // Closed first (closers run in reverse): calls still waiting reach the store and queue before they close.
    closers.push(() => eventAcceptor.close());

    // The demo's state and outbox live in the embedded SQLite file when there is one.
    const sqlite = engines.sqliteOpened ? await engines.sqlite() : undefined;
    const outbox = sqlite ? new SqliteOutboxMailer(sqlite.db, config.mail.from, options.clock) : new MemoryOutboxMailer(config.mail.from, options.clock);
    const demoStore: DemoStore = sqlite ? new SqliteDemoStore(sqlite.db, options.clock) : new MemoryDemoStore();
    const mailer: Mailer = config.mail.resend
      ? createResendMailer({ apiKey: config.mail.resend.apiKey, baseUrl: config.mail.resend.baseUrl, from: config.mail.from })
      : outbox;

    return {
      ...stores,
      metadataStore,
      replayStore,
      mailer,
      mailOutbox: outbox,
      demoStore,
      queue,
      idempotencyStore,
      rateLimiter,
      eventAcceptor,
      embedded: engines.sqliteOpened,
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
