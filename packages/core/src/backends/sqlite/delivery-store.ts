import type { Statement } from 'better-sqlite3';
import type { DeliveryAttempt, EventStatus } from '../../domain/events.ts';
import type { AttemptOutcome, DeliveryRecord, DeliveryStore, EventRef, NewDelivery } from '../../ports/delivery-store.ts';
import { toDeliveryRecord, type DeliveryRow } from '../sql/delivery-rows.ts';
import type { SqliteDatabase } from './database.ts';
import { withSqlite } from './errors.ts';
import { progressWriterOf, type ProgressWriter } from './progress-writer.ts';

const COLUMNS = 'delivery_id, event_id, customer_id, workflow_id, status, attempts_made, next_attempt_at, failure_reason, created_at, updated_at, replay_id';

/**
 * Deliveries in the same SQLite file as the events, so recording an attempt, finishing its
 * delivery and settling the event's status is one transaction. Every write goes through the
 * connection's progress writer: the writes of one event-loop turn share one transaction, without
 * their own fsync (progress, not acknowledged input: losing the last ones in a power failure only
 * makes the matcher or deliverer redo work, idempotently).
 */
export class SqliteDeliveryStore implements DeliveryStore {
  readonly kind = 'sqlite';
  private readonly insert: Statement<unknown[]>;
  private readonly selectOne: Statement<[string], DeliveryRow>;
  private readonly selectByEvent: Statement<[string, string], DeliveryRow>;
  private readonly casAttempts: Statement<unknown[]>;
  private readonly updateNext: Statement<unknown[]>;
  private readonly finishRow: Statement<unknown[]>;
  private readonly outcomeCounts: Statement<[string], { succeeded: number; unfinished: number }>;
  private readonly settleEvent: Statement<unknown[]>;
  private readonly selectEventStatus: Statement<[string], { status: EventStatus }>;
  private readonly selectOverdue: Statement<[number, number], DeliveryRow>;
  private readonly selectStranded: Statement<[number, number], { event_id: string; customer_id: string }>;
  private readonly insertAttempt: Statement<unknown[]>;
  private readonly countAttempt: Statement<unknown[]>;
  private readonly rescheduleAfterAttempt: Statement<unknown[]>;
  private readonly settleUnmatchedRow: Statement<unknown[]>;
  private readonly selectInOrder: Statement<[string, number], DeliveryRow>;
  private readonly writer: ProgressWriter;

  constructor(private readonly db: SqliteDatabase) {
    this.writer = progressWriterOf(db);
    this.insert = db.prepare(`
      INSERT INTO deliveries (${COLUMNS}) VALUES (?, ?, ?, ?, 'pending', 0, ?, NULL, ?, ?, ?)
      ON CONFLICT (delivery_id) DO NOTHING`);
    this.selectOne = db.prepare(`SELECT ${COLUMNS} FROM deliveries WHERE delivery_id = ?`);
    this.selectByEvent = db.prepare(`SELECT ${COLUMNS} FROM deliveries WHERE event_id = ? AND customer_id = ? ORDER BY created_at, delivery_id`);
    this.casAttempts = db.prepare(`
      UPDATE deliveries SET attempts_made = attempts_made + 1, next_attempt_at = COALESCE(?, next_attempt_at), updated_at = ?
       WHERE delivery_id = ? AND attempts_made = ? AND status = 'pending'`);
    this.updateNext = db.prepare(`UPDATE deliveries SET next_attempt_at = ?, updated_at = MAX(updated_at, ?) WHERE delivery_id = ?`);
    this.finishRow = db.prepare(`
      UPDATE deliveries SET status = ?, failure_reason = ?, updated_at = ?
       WHERE delivery_id = ? AND status = 'pending'`);
    this.outcomeCounts = db.prepare(`
      SELECT COALESCE(SUM(status = 'succeeded'), 0) AS succeeded, COALESCE(SUM(status = 'pending'), 0) AS unfinished
        FROM deliveries WHERE event_id = ?`);
    this.settleEvent = db.prepare(`UPDATE events SET status = ? WHERE event_id = ? AND status <> ?`);
    this.selectEventStatus = db.prepare(`SELECT status FROM events WHERE event_id = ?`);
    this.selectOverdue = db.prepare(`
      SELECT ${COLUMNS} FROM deliveries
       WHERE status = 'pending' AND next_attempt_at < ?
       ORDER BY next_attempt_at LIMIT ?`);
    this.insertAttempt = db.prepare(`
      INSERT INTO delivery_attempts (event_id, customer_id, workflow_id, delivery_id, attempt, status, status_code, error, duration_ms, timestamp, response_body)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.countAttempt = db.prepare(`
      UPDATE events SET delivery_attempts = delivery_attempts + 1,
             last_delivery_timestamp = MAX(COALESCE(last_delivery_timestamp, 0), ?)
       WHERE event_id = ? AND customer_id = ?`);
    // Only the latest claimed attempt's outcome moves the due time (a late one would cut short a newer claim's lease).
    this.rescheduleAfterAttempt = db.prepare(`
      UPDATE deliveries SET next_attempt_at = ?, updated_at = MAX(updated_at, ?)
       WHERE delivery_id = ? AND status = 'pending' AND attempts_made = ?`);
    this.settleUnmatchedRow = db.prepare(`
      UPDATE events SET status = 'unmatched'
       WHERE event_id = ? AND customer_id = ? AND status = 'pending'
         AND NOT EXISTS (SELECT 1 FROM deliveries WHERE deliveries.event_id = events.event_id)`);
    this.selectInOrder = db.prepare(`
      SELECT ${COLUMNS} FROM deliveries
       WHERE workflow_id = ? AND status = 'pending'
       ORDER BY event_id, delivery_id LIMIT ?`);
    this.selectStranded = db.prepare(`
      SELECT e.event_id, e.customer_id FROM events e
       WHERE e.status = 'pending' AND e.timestamp < ?
         AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.event_id)
       ORDER BY e.status, e.timestamp LIMIT ?`);

  }

  async createDeliveries(deliveries: NewDelivery[]): Promise<DeliveryRecord[]> {
    if (deliveries.length === 0) return [];
    return this.writer.run('creating deliveries', () => {
      for (const d of deliveries) this.insert.run(d.deliveryId, d.eventId, d.customerId, d.workflowId, d.createdAt, d.createdAt, d.createdAt, d.replayId ?? null);
      return deliveries.map((d) => toDeliveryRecord(this.selectOne.get(d.deliveryId) as DeliveryRow));
    });
  }

  async getDelivery(deliveryId: string): Promise<DeliveryRecord | null> {
    return withSqlite('getDelivery', () => {
      const row = this.selectOne.get(deliveryId);
      return row ? toDeliveryRecord(row) : null;
    });
  }

  async listDeliveries(customerId: string, eventId: string): Promise<DeliveryRecord[]> {
    return withSqlite('listDeliveries', () => this.selectByEvent.all(eventId, customerId).map(toDeliveryRecord));
  }

  async incrementAttempts(deliveryId: string, expected: number, now: number, claimUntil?: number): Promise<boolean> {
    return this.writer.run('claiming a delivery attempt', () => this.casAttempts.run(claimUntil ?? null, now, deliveryId, expected).changes === 1);
  }

  async scheduleNextAttempt(deliveryId: string, nextAttemptAt: number): Promise<void> {
    await this.writer.run('scheduling the next attempt', () => this.updateNext.run(nextAttemptAt, Date.now(), deliveryId));
  }

  async finishDelivery(deliveryId: string, outcome: { status: 'succeeded' | 'failed'; reason?: string; now: number }): Promise<{ eventStatus: EventStatus } | null> {
    return this.writer.run('finishing a delivery', () => {
      const row = this.selectOne.get(deliveryId);
      return row ? this.finish(row, outcome.status, outcome.reason ?? null, outcome.now) : null;
    });
  }

  async recordAttempts(outcomes: AttemptOutcome[]): Promise<Array<{ eventStatus: EventStatus } | null>> {
    if (outcomes.length === 0) return [];
    return this.writer.run('recording delivery attempts', () => outcomes.map((o) => this.record(o)));
  }

  async settleUnmatched(events: EventRef[]): Promise<void> {
    if (events.length === 0) return;
    await this.writer.run('settling unmatched events', () => {
      for (const e of events) this.settleUnmatchedRow.run(e.eventId, e.customerId);
    });
  }

  async pendingInOrder(workflowId: string, limit: number): Promise<DeliveryRecord[]> {
    return withSqlite('pendingInOrder', () => this.selectInOrder.all(workflowId, limit).map(toDeliveryRecord));
  }

  /** One outcome, inside the writer's transaction. */
  private record(outcome: AttemptOutcome): { eventStatus: EventStatus } | null {
    const row = this.selectOne.get(outcome.deliveryId);
    if (!row) return null;
    const a: DeliveryAttempt = outcome.attempt;
    this.insertAttempt.run(a.eventId, a.customerId, a.workflowId, a.deliveryId, a.attempt, a.status, a.statusCode, a.error, a.durationMs, a.timestamp, a.responseBody);
    this.countAttempt.run(a.timestamp, a.eventId, a.customerId);
    const next = outcome.next;
    if (next.status === 'retrying') {
      this.rescheduleAfterAttempt.run(next.nextAttemptAt, outcome.now, outcome.deliveryId, a.attempt);
      return { eventStatus: this.selectEventStatus.get(row.event_id)?.status ?? 'pending' };
    }
    return this.finish(row, next.status, next.status === 'failed' ? next.reason : null, outcome.now);
  }

  /**
   * Ends a pending delivery (a finished one stays as it is) and settles its event from all its
   * deliveries' outcomes; inside the writer's transaction.
   */
  private finish(row: DeliveryRow, status: 'succeeded' | 'failed', reason: string | null, now: number): { eventStatus: EventStatus } {
    this.finishRow.run(status, reason, now, row.delivery_id);
    const counts = this.outcomeCounts.get(row.event_id) ?? { succeeded: 0, unfinished: 0 };
    const settled: EventStatus | null = counts.succeeded > 0 ? 'delivered' : counts.unfinished === 0 ? 'failed' : null;
    if (settled) this.settleEvent.run(settled, row.event_id, settled);
    return { eventStatus: this.selectEventStatus.get(row.event_id)?.status ?? 'pending' };
  }

  async listOverdue(now: number, graceMs: number, limit: number) {
    return withSqlite('listOverdue', () => ({
      deliveries: this.selectOverdue.all(now - graceMs, limit).map(toDeliveryRecord),
      eventsWithoutDeliveries: this.selectStranded.all(now - graceMs, limit).map((r) => ({ eventId: r.event_id, customerId: r.customer_id })),
    }));
  }

  async ping(): Promise<void> {
    withSqlite('ping', () => this.db.prepare('SELECT 1').get());
  }

  async close(): Promise<void> {
    // The connection belongs to openSqliteBackends, which closes it.
  }
}
