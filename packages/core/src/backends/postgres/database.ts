import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import type { Logger } from '../../log.ts';
import { runMigrations } from '../../migrations/index.ts';
import { DependencyError } from '../../errors.ts';
import { toPostgresDependencyError } from './errors.ts';
import type { SecretCipher } from '../../secret-cipher.ts';

/** The knex instance (a pg connection pool) every PostgreSQL adapter of one process shares. */
export type PostgresDatabase = Knex;

export interface PostgresDatabaseOptions {
  /** `postgres://user:password@host:port/database`. */
  url: string;
  /** Most connections this process holds. */
  poolMax: number;
  /**
   * Keep the tables in this schema (created when missing) instead of the connection's default
   * (`public`). Tests give every suite its own.
   */
  schema?: string;
  log?: Logger;
  /** How long to wait for another replica that is migrating the same schema. Default 120 s. */
  migrationLockTimeoutMs?: number;
  /** A statement running longer is cancelled (a retryable failure). Default 30 s. */
  statementTimeoutMs?: number;
  /**
   * Encrypts webhook secrets: migration 0006 and, at every open, the re-encryption of secrets of a
   * previous key. Absent, opening fails if a subscription's secret is not encrypted.
   */
  secrets?: SecretCipher;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** The first key of our two-part advisory lock: "tr". The second is a hash of the schema name. */
const MIGRATION_LOCK_CLASS = 0x7472;

// PostgreSQL's int8 (bigint: our epoch-ms columns, COUNT) and numeric (SUM) arrive as strings by
// default. Every value we store fits in a double, so this pool reads them as numbers. Set per
// connection, not on pg's global parser table, so other pg users in the process are unaffected.
const NUMBER_TYPES = new Set<number>([pg.types.builtins.INT8, pg.types.builtins.NUMERIC]);
const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (NUMBER_TYPES.has(oid) && format !== 'binary') return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

/** pg connection settings shared by the pool and the migration-lock connection. */
function connectionSettings(options: PostgresDatabaseOptions): pg.ClientConfig {
  const settings: pg.ClientConfig = {
    connectionString: options.url,
    types: typeParsers,
    connectionTimeoutMillis: 5000,
    keepAlive: true,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    application_name: 'triggers',
  };
  // Set at connection start-up, so no extra round trip per connection.
  if (options.schema !== undefined) settings.options = `-c search_path=${options.schema}`;
  return settings;
}

/**
 * Opens a pool, brings the schema up to date and returns the knex instance the adapters share.
 * Several replicas may start at once: each waits for a PostgreSQL advisory lock on the schema
 * before migrating, so exactly one applies any migration and the others find nothing to do. The
 * server drops the lock when its holder's connection dies, so a crash never leaves it taken.
 */
export async function openPostgresDatabase(options: PostgresDatabaseOptions): Promise<PostgresDatabase> {
  if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) {
    throw new RangeError(`schema must match ${SCHEMA_NAME}`);
  }
  const log = options.log;
  const knex = knexFactory({
    client: 'pg',
    connection: connectionSettings(options) as Knex.PgConnectionConfig,
    pool: { min: 0, max: Math.max(1, options.poolMax) },
    // A pool that cannot hand out a connection (server down) fails the call instead of queueing it for a minute.
    acquireConnectionTimeout: 10_000,
    log: {
      warn: (message: unknown) => log?.warn({ knex: String(message) }, 'knex warned'),
      error: (message: unknown) => log?.error({ knex: String(message) }, 'knex failed'),
      deprecate() {},
      debug() {},
    },
  });
  try {
    await withMigrationLock(options, async () => {
      if (options.schema !== undefined) await knex.raw(`CREATE SCHEMA IF NOT EXISTS "${options.schema}"`);
      // Safe: we hold the advisory lock, so a set knex lock can only be a crashed replica's.
      const applied = await runMigrations(knex, { freeStaleLock: true, secrets: options.secrets });
      if (applied.length > 0) log?.info({ migrations: applied }, 'Migrated the PostgreSQL schema');
    });
  } catch (thrown) {
    await knex.destroy().catch(() => undefined);
    throw toPostgresDependencyError(thrown, 'migrating the schema');
  }
  return knex;
}

/**
 * Runs `work` while holding the schema's migration advisory lock on a connection of its own.
 * `lock_timeout` bounds the wait for a replica that is migrating right now.
 */
async function withMigrationLock(options: PostgresDatabaseOptions, work: () => Promise<void>): Promise<void> {
  const client = new pg.Client(connectionSettings(options));
  // A broken connection also rejects the query in flight; this only keeps the event from crashing the process.
  client.on('error', () => undefined);
  await client.connect();
  try {
    const timeoutMs = Math.max(1, Math.floor(options.migrationLockTimeoutMs ?? 120_000));
    await client.query(`SET lock_timeout = ${timeoutMs}`);
    const schema = options.schema ?? ((await client.query<{ schema: string | null }>('SELECT current_schema() AS schema')).rows[0]?.schema ?? 'public');
    try {
      await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [MIGRATION_LOCK_CLASS, schema]);
    } catch (thrown) {
      if ((thrown as { code?: unknown }).code === '55P03') {
        throw new DependencyError('postgres', `another replica held the migration lock of schema ${schema} for over ${timeoutMs} ms`, { cause: thrown, retryable: true });
      }
      throw thrown;
    }
    try {
      await work();
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [MIGRATION_LOCK_CLASS, schema]).catch(() => undefined);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}
