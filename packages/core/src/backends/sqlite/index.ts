import type { Clock } from '../../clock.ts';
import { openSqliteDatabase, type SqliteDatabase } from './database.ts';
import { SqliteEventAcceptor } from './event-acceptor.ts';
import { SqliteEventStore } from './event-store.ts';
import { SqliteDeliveryStore } from './delivery-store.ts';
import { SqliteIdempotencyStore } from './idempotency-store.ts';
import { SqliteMetadataStore } from './metadata-store.ts';
import { SqliteQueue } from './queue.ts';
import { createSqliteReplayStore } from './replay-store.ts';
import type { ReplayStore } from '../../ports/replay-store.ts';
import type { SecretCipher } from '../../secret-cipher.ts';
import { progressWriterOf } from './progress-writer.ts';

export { openSqliteDatabase, DATABASE_FILE, type SqliteDatabase, type SqliteDatabaseOptions } from './database.ts';
export { SqliteEventStore, createSqliteEventStore } from './event-store.ts';
export { SqliteDeliveryStore } from './delivery-store.ts';
export { SqliteMetadataStore, createSqliteMetadataStore } from './metadata-store.ts';
export { createSqliteReplayStore } from './replay-store.ts';
export { SqliteQueue, createSqliteQueue, type SqliteQueueOptions } from './queue.ts';
export {
  SqliteIdempotencyStore,
  createSqliteIdempotencyStore,
  completeIdempotencyKey,
  type IdempotencyCompletion,
  type SqliteIdempotencyStoreOptions,
} from './idempotency-store.ts';
export { SqliteEventAcceptor, createSqliteEventAcceptor, type SqliteEventAcceptorOptions } from './event-acceptor.ts';

export interface SqliteBackendsOptions {
  dataDir: string;
  synchronous: 'full' | 'normal';
  maxReceives: number;
  /** Encrypts and decrypts webhook secrets (the metadata store's, and migration 0006's). */
  secrets: SecretCipher;
  clock?: Clock;
  /** How often idle queue receivers look for messages from other processes. Default 25 ms. */
  pollIntervalMs?: number;
}

export interface SqliteBackends {
  db: SqliteDatabase;
  eventStore: SqliteEventStore;
  deliveryStore: SqliteDeliveryStore;
  metadataStore: SqliteMetadataStore;
  replayStore: ReplayStore;
  queue: SqliteQueue;
  idempotencyStore: SqliteIdempotencyStore;
  eventAcceptor: SqliteEventAcceptor;
  /** Commits accepts and progress writes still waiting, wakes queue receivers, then closes the connection. */
  close(): Promise<void>;
}

/** Every embedded backend over one data folder, sharing one connection. */
export async function openSqliteBackends(options: SqliteBackendsOptions): Promise<SqliteBackends> {
  const db = await openSqliteDatabase({ dataDir: options.dataDir, synchronous: options.synchronous, secrets: options.secrets });
  const clock = options.clock;
  const eventAcceptor = new SqliteEventAcceptor(db, { clock });
  const queue = new SqliteQueue(db, { maxReceives: options.maxReceives, pollIntervalMs: options.pollIntervalMs, clock });
  const backends: SqliteBackends = {
    db,
    eventStore: new SqliteEventStore(db),
    deliveryStore: new SqliteDeliveryStore(db),
    metadataStore: new SqliteMetadataStore(db, options.secrets),
    replayStore: createSqliteReplayStore(db),
    queue,
    idempotencyStore: new SqliteIdempotencyStore(db, { clock }),
    eventAcceptor,
    async close() {
      await eventAcceptor.close();
      await queue.close();
      // Progress writes still waiting for their turn commit before the connection goes.
      if (db.open) progressWriterOf(db).flush();
      if (db.open) db.close();
    },
  };
  return backends;
}
