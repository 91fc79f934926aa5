import type { Statement } from 'better-sqlite3';
import { systemClock, type Clock } from '../../clock.ts';
import type { IdempotencyClaim, IdempotencyStore, StoredResponse } from '../../ports/idempotency-store.ts';
import type { SqliteDatabase } from './database.ts';
import { withSqlite } from './errors.ts';

interface KeyRow {
  request_hash: string;
  state: 'in_progress' | 'completed';
  response: string | null;
  lease_expires_at: number | null;
  expires_at: number;
}

export interface IdempotencyCompletion {
  customerId: string;
  key: string;
  response: StoredResponse;
  ttlMs: number;
}

// A completion without an earlier claim stores an empty hash: no request matches it, so a
// repeat is refused as `mismatch` rather than answered with a response meant for another body.
const COMPLETE_SQL = `
  INSERT INTO idempotency_keys (customer_id, idem_key, request_hash, state, response, lease_expires_at, expires_at, created_at)
  VALUES (?, ?, '', 'completed', ?, NULL, ?, ?)
  ON CONFLICT (customer_id, idem_key) DO UPDATE
     SET state = 'completed', response = excluded.response, lease_expires_at = NULL, expires_at = excluded.expires_at`;

const completeStatements = new WeakMap<SqliteDatabase, Statement<unknown[]>>();

/**
 * Marks an idempotency key completed with its response. Synchronous, for use inside a caller's
 * transaction (the outbox completes the key in the same commit as the events it accepted).
 */
export function completeIdempotencyKey(db: SqliteDatabase, completion: IdempotencyCompletion, now: number): void {
  let statement = completeStatements.get(db);
  if (!statement) {
    statement = db.prepare(COMPLETE_SQL);
    completeStatements.set(db, statement);
  }
  statement.run(completion.customerId, completion.key, JSON.stringify(completion.response), now + completion.ttlMs, now);
}

export interface SqliteIdempotencyStoreOptions {
  clock?: Clock;
  /** How often expired keys are purged (at most; piggybacks on claims). Default 60 s. */
  purgeIntervalMs?: number;
}

export class SqliteIdempotencyStore implements IdempotencyStore {
  readonly kind = 'sqlite';
  private readonly clock: Clock;
  private readonly purgeIntervalMs: number;
  private readonly claimKey: (customerId: string, key: string, requestHash: string, leaseMs: number, ttlMs: number, now: number) => IdempotencyClaim;
  private readonly deleteInProgress: Statement<[string, string]>;
  private readonly purgeExpired: Statement<[number]>;
  private readonly selectOne: Statement<[], unknown>;
  private lastPurgeAt = 0;

  constructor(private readonly db: SqliteDatabase, options: SqliteIdempotencyStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.purgeIntervalMs = options.purgeIntervalMs ?? 60_000;
    const select = db.prepare<[string, string], KeyRow>(`
      SELECT request_hash, state, response, lease_expires_at, expires_at FROM idempotency_keys WHERE customer_id = ? AND idem_key = ?`);
    const acquire = db.prepare<unknown[]>(`
      INSERT INTO idempotency_keys (customer_id, idem_key, request_hash, state, response, lease_expires_at, expires_at, created_at)
      VALUES (?, ?, ?, 'in_progress', NULL, ?, ?, ?)
      ON CONFLICT (customer_id, idem_key) DO UPDATE
         SET request_hash = excluded.request_hash, state = 'in_progress', response = NULL,
             lease_expires_at = excluded.lease_expires_at, expires_at = excluded.expires_at, created_at = excluded.created_at`);
    const claim = db.transaction((customerId: string, key: string, requestHash: string, leaseMs: number, ttlMs: number, now: number): IdempotencyClaim => {
      const row = select.get(customerId, key);
      const abandoned = row !== undefined && row.state === 'in_progress' && (row.lease_expires_at ?? 0) <= now;
      if (row === undefined || row.expires_at <= now || abandoned) {
        acquire.run(customerId, key, requestHash, now + leaseMs, now + Math.max(ttlMs, leaseMs), now);
        return { state: 'acquired' };
      }
      if (row.request_hash !== requestHash) return { state: 'mismatch' };
      if (row.state === 'in_progress') return { state: 'in_progress' };
      return { state: 'completed', response: JSON.parse(row.response ?? 'null') as StoredResponse };
    });
    this.claimKey = (...args) => claim.immediate(...args);
    this.deleteInProgress = db.prepare("DELETE FROM idempotency_keys WHERE customer_id = ? AND idem_key = ? AND state = 'in_progress'");
    this.purgeExpired = db.prepare(`
      DELETE FROM idempotency_keys WHERE rowid IN (
        SELECT rowid FROM idempotency_keys WHERE expires_at <= ? LIMIT 1000)`);
    this.selectOne = db.prepare('SELECT 1');
  }

  async claim(customerId: string, key: string, requestHash: string, options: { leaseMs: number; ttlMs: number }): Promise<IdempotencyClaim> {
    const now = this.clock.now();
    this.purgeNowAndThen(now);
    return withSqlite('claiming an idempotency key', () => this.claimKey(customerId, key, requestHash, options.leaseMs, options.ttlMs, now));
  }

  async complete(customerId: string, key: string, response: StoredResponse, ttlMs: number): Promise<void> {
    withSqlite('completing an idempotency key', () => completeIdempotencyKey(this.db, { customerId, key, response, ttlMs }, this.clock.now()));
  }

  async release(customerId: string, key: string): Promise<void> {
    withSqlite('releasing an idempotency key', () => this.deleteInProgress.run(customerId, key));
  }

  async ping(): Promise<void> {
    withSqlite('ping', () => this.selectOne.get());
  }

  /** The connection is shared by every adapter; whoever opened it closes it. */
  async close(): Promise<void> {}

  /** Expired keys are dead weight only; purging them is best effort and never fails a claim. */
  private purgeNowAndThen(now: number): void {
    if (now - this.lastPurgeAt < this.purgeIntervalMs) return;
    this.lastPurgeAt = now;
    try {
      this.purgeExpired.run(now);
    } catch {
      // Busy or failing: the next interval tries again, and expired rows are ignored by claims anyway.
    }
  }
}

export function createSqliteIdempotencyStore(db: SqliteDatabase, options: SqliteIdempotencyStoreOptions = {}): SqliteIdempotencyStore {
  return new SqliteIdempotencyStore(db, options);
}
