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
import { openSqliteBackends } from './backends/sqlite/index.ts';
import { createMemoryRateLimiter } from './backends/memory/rate-limiter.ts';

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
  readiness: ReadinessCheck[];
  /** True when the data lives in a local folder (embedded mode): the admin token may be kept there. */
  embedded: boolean;
  close(): Promise<void>;
}

/** The only place that switches on a backend kind. */
export async function createBackends(config: Config, options: { clock: Clock; log: Logger }): Promise<Backends> {
  const sqlite = await openSqliteBackends({
    dataDir: config.dataDir,
    synchronous: config.backends.sqlite.synchronous,
    maxReceives: config.queue.maxReceives,
    clock: options.clock,
  });
  const rateLimiter = createMemoryRateLimiter({ clock: options.clock });
  return {
    eventStore: sqlite.eventStore,
    deliveryStore: sqlite.deliveryStore,
    metadataStore: sqlite.metadataStore,
    queue: sqlite.queue,
    idempotencyStore: sqlite.idempotencyStore,
    rateLimiter,
    eventAcceptor: sqlite.eventAcceptor,
    embedded: true,
    readiness: [
      { name: 'event_store', check: () => sqlite.eventStore.ping() },
      { name: 'metadata_store', check: () => sqlite.metadataStore.ping() },
      { name: 'queue', check: () => sqlite.queue.ping() },
    ],
    close: async () => {
      await rateLimiter.close();
      await sqlite.close();
    },
  };
}
