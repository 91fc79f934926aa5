import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import knexFactory from 'knex';
import { runMigrations } from '../../migrations/index.ts';
import { toSqliteDependencyError } from './errors.ts';
import type { SecretCipher } from '../../secret-cipher.ts';

/** The better-sqlite3 connection every SQLite adapter of one process shares. */
export type SqliteDatabase = Database.Database;

export interface SqliteDatabaseOptions {
  dataDir: string;
  /** `full` fsyncs every commit (nothing acknowledged is lost on power failure); `normal` only checkpoints. */
  synchronous: 'full' | 'normal';
  /** How long to wait for another process that is migrating the same folder. Default 120 s. */
  migrationLockTimeoutMs?: number;
  /**
   * Encrypts webhook secrets: migration 0006 and, at every open, the re-encryption of secrets of a
   * previous key. Absent, opening fails if a subscription's secret is not encrypted.
   */
  secrets?: SecretCipher;
}

export const DATABASE_FILE = 'triggers.db';
/** A separate, always-empty SQLite file whose exclusive lock serialises migrations across processes. */
const MIGRATION_LOCK_FILE = 'triggers.migrate.lock';
const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating if needed) `<dataDir>/triggers.db`, brings its schema up to date through knex,
 * and returns a better-sqlite3 connection configured for the adapters: WAL, a 5 s busy timeout,
 * and the requested `synchronous` level. Several processes may open one folder at once: they
 * migrate one after the other, and their writes serialise through `BEGIN IMMEDIATE`.
 */
export async function openSqliteDatabase(options: SqliteDatabaseOptions): Promise<SqliteDatabase> {
  const file = path.join(options.dataDir, DATABASE_FILE);
  try {
    fs.mkdirSync(options.dataDir, { recursive: true });
    await withFileLock(path.join(options.dataDir, MIGRATION_LOCK_FILE), options.migrationLockTimeoutMs ?? 120_000, () =>
      migrateDatabaseFile(file, options.secrets),
    );
    const db = new Database(file);
    try {
      configureConnection(db, options.synchronous);
    } catch (thrown) {
      db.close();
      throw thrown;
    }
    return db;
  } catch (thrown) {
    throw toSqliteDependencyError(thrown, `opening ${file}`);
  }
}

/**
 * Runs single writes whose loss in a power failure only causes a redelivery (queue receipts, acks,
 * nacks) without their own fsync. WAL is sequential, so a later durable commit persists them too,
 * and losing them can never lose a durable commit made before them. Must be called outside any
 * transaction (SQLite refuses to change the safety level inside one).
 */
export function createRelaxedDurability(db: SqliteDatabase): <T>(work: () => T) => T {
  const level = Number(db.pragma('synchronous', { simple: true }));
  if (level <= 1) return (work) => work();
  const relax = db.prepare('PRAGMA synchronous = NORMAL');
  const restore = db.prepare(`PRAGMA synchronous = ${level}`);
  return (work) => {
    relax.run();
    try {
      return work();
    } finally {
      restore.run();
    }
  };
}

function configureConnection(db: SqliteDatabase, synchronous: 'full' | 'normal'): void {
  // busy_timeout first: switching to WAL needs a lock another process may hold for a moment.
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = OFF');
  // 16 MiB of page cache (negative = KiB), SQLite's default being 2 MiB. 64 MiB kept the all-in-one
  // above the 300 MB RSS target with 1M events stored (bench memory: 292-309 MB at the end, peaks
  // 317-319), while inbox pages read as fast with 16 (p95 37.4 ms vs 35.9 ms in the same hour,
  // loaded): the operating system's page cache holds the file anyway (docs/benchmarks.md).
  db.pragma('cache_size = -16384');
  db.pragma('temp_store = MEMORY');
}

async function migrateDatabaseFile(file: string, secrets: SecretCipher | undefined): Promise<void> {
  const knex = knexFactory({
    client: 'better-sqlite3',
    connection: { filename: file },
    useNullAsDefault: true,
    // knex prints migration failures itself; ours reach the caller as a DependencyError instead.
    log: { warn() {}, error() {}, deprecate() {}, debug() {} },
    pool: {
      min: 1,
      max: 1,
      afterCreate(connection: SqliteDatabase, done: (error: Error | null, connection: SqliteDatabase) => void) {
        try {
          connection.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
          connection.pragma('journal_mode = WAL');
          done(null, connection);
        } catch (thrown) {
          done(thrown as Error, connection);
        }
      },
    },
  });
  try {
    // Safe: we hold the folder's migration lock, so a set knex lock can only be a crashed process's.
    await runMigrations(knex, { freeStaleLock: true, secrets });
  } finally {
    await knex.destroy();
  }
}

/**
 * Runs `work` while holding an exclusive lock on `lockFile`, waiting (without blocking the event
 * loop) while another process holds it. The operating system drops the lock if its holder dies,
 * so a crash during a migration never leaves the folder locked.
 */
async function withFileLock<T>(lockFile: string, timeoutMs: number, work: () => Promise<T>): Promise<T> {
  const lock = new Database(lockFile);
  try {
    lock.pragma('busy_timeout = 0');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        lock.exec('BEGIN EXCLUSIVE');
        break;
      } catch (thrown) {
        const code = (thrown as { code?: unknown }).code;
        if (code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw thrown;
        await sleep(20);
      }
    }
    try {
      return await work();
    } finally {
      lock.exec('ROLLBACK');
    }
  } finally {
    lock.close();
  }
}
