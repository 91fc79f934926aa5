import type { Knex } from 'knex';
import * as initial from './0001_initial.ts';
import * as deliveries from './0002_deliveries.ts';
import * as demo from './0003_demo.ts';
import * as subscriptionOwner from './0004_subscription_owner.ts';

interface NumberedMigration {
  name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
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
];

/** A knex migration source over `MIGRATIONS`. */
export const migrationSource: Knex.MigrationSource<NumberedMigration> = {
  async getMigrations() {
    return [...MIGRATIONS];
  },
  getMigrationName(migration) {
    return migration.name;
  },
  async getMigration(migration) {
    return { up: migration.up, down: migration.down };
  },
};

/**
 * Brings the schema up to date. Callers that can start concurrently must serialise this call
 * (the SQLite backend holds a file lock around it); knex's own lock table then never stays set
 * by a crashed process, because we free it first while holding ours.
 */
export async function runMigrations(knex: Knex, options: { freeStaleLock?: boolean } = {}): Promise<string[]> {
  const config: Knex.MigratorConfig = { migrationSource, tableName: 'knex_migrations' };
  if (options.freeStaleLock) {
    const hasLockTable = await knex.schema.hasTable('knex_migrations_lock');
    if (hasLockTable) await knex.migrate.forceFreeMigrationsLock(config);
  }
  const [, applied] = (await knex.migrate.latest(config)) as [number, string[]];
  return applied;
}
