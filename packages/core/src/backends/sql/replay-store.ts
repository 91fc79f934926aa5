import type { NewReplay, Replay, ReplayFilter, ReplayProgress, ReplayStatus, ReplayStore } from '../../ports/replay-store.ts';

/** Runs one statement with `?` placeholders: the rows it returns, or how many rows it changed. */
export interface SqlRunner {
  rows<T>(action: string, sql: string, params: readonly unknown[]): Promise<T[]>;
  run(action: string, sql: string, params: readonly unknown[]): Promise<number>;
}

interface ReplayRow {
  replay_id: string;
  customer_id: string;
  filter: string;
  status: ReplayStatus;
  cursor: string | null;
  matched: number | string;
  enqueued: number | string;
  idempotency_key: string | null;
  request_hash: string | null;
  created_at: number | string;
  updated_at: number | string;
  finished_at: number | string | null;
  delivered: number | string;
  failed: number | string;
  processed: number | string;
  unmatched: number | string;
  deliveries: number | string;
}

// `delivered` and `failed` are kept on the row by a trigger on `replay_outcomes` (migration 0013),
// `processed`, `unmatched` and `deliveries` by one on `replay_events` (migration 0014).
const COLUMNS =
  'r.replay_id, r.customer_id, r.filter, r.status, r.cursor, r.matched, r.enqueued, r.processed, r.unmatched, r.deliveries, r.delivered, r.failed, r.idempotency_key, r.request_hash, r.created_at, r.updated_at, r.finished_at';

/**
 * Whether a replay id is a bulk replay job. A single-event replay (`POST /api/v1/events/{id}/replay`)
 * carries a replay id of its own with no job: its processed event and outcomes are not kept (they
 * would be rows no job ever reads).
 */
const JOB_EXISTS = 'SELECT 1 FROM replays WHERE replay_id = ?';

function toReplay(row: ReplayRow): Replay {
  return {
    replayId: row.replay_id,
    customerId: row.customer_id,
    filter: JSON.parse(row.filter) as ReplayFilter,
    status: row.status,
    cursor: row.cursor,
    counts: {
      matched: Number(row.matched),
      enqueued: Number(row.enqueued),
      processed: Number(row.processed),
      unmatched: Number(row.unmatched),
      deliveries: Number(row.deliveries),
      delivered: Number(row.delivered),
      failed: Number(row.failed),
    },
    idempotencyKey: row.idempotency_key,
    requestHash: row.request_hash,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    finishedAt: row.finished_at === null ? null : Number(row.finished_at),
  };
}

/**
 * The replay store over SQL, the same statements on SQLite and PostgreSQL (both take
 * `ON CONFLICT DO NOTHING`); each backend passes its runner. An outcome inserted into
 * `replay_outcomes` (0013) or a processed event into `replay_events` (0014) is added to its job's
 * counts by the database's trigger, in the same statement.
 */
export class SqlReplayStore implements ReplayStore {
  constructor(
    readonly kind: string,
    private readonly sql: SqlRunner,
  ) {}

  async createReplay(r: NewReplay): Promise<{ replay: Replay; created: boolean }> {
    const inserted = await this.sql.run(
      'creating a replay',
      `INSERT INTO replays (replay_id, customer_id, filter, status, cursor, matched, enqueued, idempotency_key, request_hash, created_at, updated_at)
       VALUES (?, ?, ?, 'running', NULL, 0, 0, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [r.replayId, r.customerId, JSON.stringify(r.filter), r.idempotencyKey, r.requestHash, r.createdAt, r.createdAt],
    );
    if (inserted > 0) return { replay: (await this.getReplay(r.customerId, r.replayId))!, created: true };
    if (r.idempotencyKey === null) throw new Error(`replay id ${r.replayId} exists already`);
    const [row] = await this.sql.rows<ReplayRow>('reading a replay', `SELECT ${COLUMNS} FROM replays r WHERE r.customer_id = ? AND r.idempotency_key = ?`, [r.customerId, r.idempotencyKey]);
    return { replay: toReplay(row), created: false };
  }

  async getReplay(customerId: string, replayId: string): Promise<Replay | null> {
    const [row] = await this.sql.rows<ReplayRow>('reading a replay', `SELECT ${COLUMNS} FROM replays r WHERE r.customer_id = ? AND r.replay_id = ?`, [customerId, replayId]);
    return row ? toReplay(row) : null;
  }

  async cancelReplay(customerId: string, replayId: string, now: number): Promise<Replay | null> {
    await this.sql.run(
      'cancelling a replay',
      `UPDATE replays SET status = 'cancelled', finished_at = ?, updated_at = ? WHERE customer_id = ? AND replay_id = ? AND status = 'running'`,
      [now, now, customerId, replayId],
    );
    return this.getReplay(customerId, replayId);
  }

  async claimReplay(owner: string, now: number, leaseMs: number): Promise<Replay | null> {
    const candidates = await this.sql.rows<{ replay_id: string; customer_id: string }>(
      'finding a replay to run',
      `SELECT replay_id, customer_id FROM replays WHERE status = 'running' AND (lease_until IS NULL OR lease_until < ?) ORDER BY created_at LIMIT 5`,
      [now],
    );
    for (const candidate of candidates) {
      const claimed = await this.sql.run(
        'claiming a replay',
        `UPDATE replays SET lease_owner = ?, lease_until = ? WHERE replay_id = ? AND status = 'running' AND (lease_until IS NULL OR lease_until < ?)`,
        [owner, now + leaseMs, candidate.replay_id, now],
      );
      if (claimed > 0) return this.getReplay(candidate.customer_id, candidate.replay_id);
    }
    return null;
  }

  async saveProgress(replayId: string, owner: string, p: ReplayProgress): Promise<boolean> {
    const changed = await this.sql.run(
      'saving replay progress',
      `UPDATE replays SET cursor = ?, matched = matched + ?, enqueued = enqueued + ?, lease_until = ?, updated_at = ?,
              status = CASE WHEN ? = 1 THEN 'completed' ELSE status END, finished_at = CASE WHEN ? = 1 THEN ? ELSE finished_at END
        WHERE replay_id = ? AND lease_owner = ? AND status = 'running'`,
      [p.cursor, p.matched, p.enqueued, p.leaseUntil, p.now, p.finished ? 1 : 0, p.finished ? 1 : 0, p.now, replayId, owner],
    );
    if (changed > 0) return true;
    // Cancelled while its owner enqueued a page: that page went out, so it is counted (once: the
    // claim ends here). A job taken over by another runner is not: the new owner enqueues that page again.
    await this.sql.run(
      'counting the last page of a cancelled replay',
      `UPDATE replays SET matched = matched + ?, enqueued = enqueued + ?, lease_owner = NULL, lease_until = NULL
        WHERE replay_id = ? AND lease_owner = ? AND status = 'cancelled'`,
      [p.matched, p.enqueued, replayId, owner],
    );
    return false;
  }

  async releaseReplay(replayId: string, owner: string): Promise<void> {
    await this.sql.run('releasing a replay', `UPDATE replays SET lease_owner = NULL, lease_until = NULL WHERE replay_id = ? AND lease_owner = ?`, [replayId, owner]);
  }

  async recordProcessed(processed: Array<{ replayId: string; eventId: string; deliveries: number }>): Promise<void> {
    for (const p of processed) {
      await this.sql.run(
        'recording a replayed event',
        `INSERT INTO replay_events (replay_id, event_id, deliveries) SELECT ?, ?, ? WHERE EXISTS (${JOB_EXISTS}) ON CONFLICT DO NOTHING`,
        [p.replayId, p.eventId, p.deliveries, p.replayId],
      );
    }
  }

  async recordOutcomes(outcomes: Array<{ replayId: string; deliveryId: string; outcome: 'delivered' | 'failed' }>): Promise<void> {
    for (const o of outcomes) {
      await this.sql.run(
        'recording a replay outcome',
        `INSERT INTO replay_outcomes (replay_id, delivery_id, outcome) SELECT ?, ?, ? WHERE EXISTS (${JOB_EXISTS}) ON CONFLICT DO NOTHING`,
        [o.replayId, o.deliveryId, o.outcome, o.replayId],
      );
    }
  }
}
