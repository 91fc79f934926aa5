import type { Logger } from '../../log.ts';
import type { EventStore } from '../../ports/event-store.ts';
import type { DeliveryStore } from '../../ports/delivery-store.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import { openPostgresDatabase, type PostgresDatabase } from './database.ts';
import { PostgresEventStore } from './event-store.ts';
import { PostgresDeliveryStore } from './delivery-store.ts';
import { PostgresMetadataStore } from './metadata-store.ts';
import { createPostgresReplayStore } from './replay-store.ts';
import type { ReplayStore } from '../../ports/replay-store.ts';
import { withPostgres } from './errors.ts';
import { query } from './sql.ts';
import type { SecretCipher } from '../../secret-cipher.ts';

export { openPostgresDatabase, type PostgresDatabase, type PostgresDatabaseOptions } from './database.ts';
export { PostgresEventStore, createPostgresEventStore } from './event-store.ts';
export { PostgresDeliveryStore, createPostgresDeliveryStore } from './delivery-store.ts';
export { PostgresMetadataStore, createPostgresMetadataStore } from './metadata-store.ts';
export { createPostgresReplayStore } from './replay-store.ts';
export { toPostgresDependencyError } from './errors.ts';

export interface PostgresBackendsOptions {
  url: string;
  poolMax: number;
  log: Logger;
  /** Encrypts and decrypts webhook secrets (the metadata store's, and migration 0006's). */
  secrets: SecretCipher;
  /** Tables in this schema instead of the connection's default; tests use one per suite. */
  schema?: string;
}

export interface PostgresBackends {
  db: PostgresDatabase;
  eventStore: EventStore;
  deliveryStore: DeliveryStore;
  metadataStore: MetadataStore;
  replayStore: ReplayStore;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Events, deliveries and metadata in one PostgreSQL database, sharing one pool; migrated on open. */
export async function openPostgresBackends(options: PostgresBackendsOptions): Promise<PostgresBackends> {
  const db = await openPostgresDatabase({ url: options.url, poolMax: options.poolMax, log: options.log, schema: options.schema, secrets: options.secrets });
  let closed = false;
  return {
    db,
    eventStore: new PostgresEventStore(db),
    deliveryStore: new PostgresDeliveryStore(db),
    metadataStore: new PostgresMetadataStore(db, options.secrets),
    replayStore: createPostgresReplayStore(db),
    async ping() {
      await withPostgres('ping', () => query(db, 'SELECT 1'));
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}
