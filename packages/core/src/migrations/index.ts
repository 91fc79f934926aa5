import type { Knex } from 'knex';
import * as initial from './0001_initial.ts';
import * as deliveries from './0002_deliveries.ts';
import * as demo from './0003_demo.ts';
import * as subscriptionOwner from './0004_subscription_owner.ts';
import * as encryptSecrets from './0006_encrypt_secrets.ts';
import * as queueConsumers from './0007_queue_consumers.ts';
import * as queueKeyIndex from './0008_queue_key_index.ts';
import * as subscriptionRetryPolicy from './0009_subscription_retry_policy.ts';
import * as subscriptionOrdering from './0010_subscription_ordering.ts';
import * as replays from './0011_replays.ts';
import * as deliveryReplay from './0012_delivery_replay.ts';
import * as replayCounters from './0013_replay_counters.ts';
import * as replayProcessed from './0014_replay_processed.ts';
import type { SecretCipher } from '../secret-cipher.ts';
import { encryptSubscriptionSecrets } from '../backends/sql/subscription-secrets.ts';

/** What a migration may need beyond the connection. */
export interface MigrationContext {
  /** Encrypts webhook secrets (0006); absent, a migration that would need it fails if there is a row to convert. */
  secrets?: SecretCipher;
}

interface NumberedMigration {
  name: string;
  up(knex: Knex, context: MigrationContext): Promise<void>;
  down(knex: Knex, context: MigrationContext): Promise<void>;
}

/**
 * Every migration, in order. Listed explicitly (no directory scan) so that bundlers and `tsx` see
 * them and a stray file never runs. Append-only: add `0002_...` below, never edit a released one.
 */
export const MIGRATIONS: readonly NumberedMigration[] = [
  { name: '0001_initial', ...initial },
  { name: '0002_deliveries', ...deliveries },
  { name: '0003_demo', ...demo },
  { name: '0004_subscription_owner', ...subscriptionOwner },
  { name: '0006_encrypt_secrets', ...encryptSecrets },
  { name: '0007_queue_consumers', ...queueConsumers },
  { name: '0008_queue_key_index', ...queueKeyIndex },
  { name: '0009_subscription_retry_policy', ...subscriptionRetryPolicy },
  { name: '0010_subscription_ordering', ...subscriptionOrdering },
  { name: '0011_replays', ...replays },
  { name: '0012_delivery_replay', ...deliveryReplay },
  { name: '0013_replay_counters', ...replayCounters },
  { name: '0014_replay_processed', ...replayProcessed },
];

/** A knex migration source over `MIGRATIONS`, each migration given `context`. */
export function createMigrationSource(context: MigrationContext): Knex.MigrationSource<NumberedMigration> {
  return {
    async getMigrations() {
      return [...MIGRATIONS];
    },
    getMigrationName(migration) {
      return migration.name;
    },
    async getMigration(migration) {
      return { up: (knex: Knex) => migration.up(knex, context), down: (knex: Knex) => migration.down(knex, context) };
    },
  };
}

/**
 * Brings the schema up to date. Callers that can start concurrently must serialise this call
 * (the SQLite backend holds a file lock around it); knex's own lock table then never stays set
 * by a crashed process, because we free it first while holding ours.
 */
export async function runMigrations(knex: Knex, options: { freeStaleLock?: boolean } & MigrationContext = {}): Promise<string[]> {
  const config: Knex.MigratorConfig = { migrationSource: createMigrationSource({ secrets: options.secrets }), tableName: 'knex_migrations' };
  if (options.freeStaleLock) {
    const hasLockTable = await knex.schema.hasTable('knex_migrations_lock');
    if (hasLockTable) await knex.migrate.forceFreeMigrationsLock(config);
  }
  const [, applied] = (await knex.migrate.latest(config)) as [number, string[]];
  // Every start-up: secrets of a previous key (or written by an older version) move to the current key.
  if (options.secrets) await encryptSubscriptionSecrets(knex, options.secrets);
  return applied;
}
