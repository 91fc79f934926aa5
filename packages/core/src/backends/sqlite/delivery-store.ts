import type { Statement } from 'better-sqlite3';
import type { EventStatus } from '../../domain/events.ts';
import type { DeliveryRecord, DeliveryStore, NewDelivery } from '../../ports/delivery-store.ts';
import { toDeliveryRecord, type DeliveryRow } from '../sql/delivery-rows.ts';
import { createRelaxedDurability, type SqliteDatabase } from './database.ts';
import { withSqlite } from './errors.ts';

const COLUMNS = 'delivery_id, event_id, customer_id, workflow_id, status, attempts_made, next_attempt_at, failure_reason, created_at, updated_at';

/**
 * Deliveries in the same SQLite file as the events, so finishing a delivery and settling its
 * event's status is one transaction.
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
  private readonly createAll: (deliveries: NewDelivery[]) => DeliveryRecord[];
  private readonly finish: (deliveryId: string, status: 'succeeded' | 'failed', reason: string | null, now: number) => { eventStatus: EventStatus } | null;

  /** Progress, not acknowledged input: see SqliteEventStore's `relaxed`. */
  private readonly relaxed: <T>(work: () => T) => T;

  constructor(private readonly db: SqliteDatabase) {
    this.relaxed = createRelaxedDurability(db);
    this.insert = db.prepare(`
      INSERT INTO deliveries (${COLUMNS}) VALUES (?, ?, ?, ?, 'pending', 0, ?, NULL, ?, ?)
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
    this.selectStranded = db.prepare(`
      SELECT e.event_id, e.customer_id FROM events e
       WHERE e.status = 'pending' AND e.timestamp < ?
         AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.event_id)
       ORDER BY e.status, e.timestamp LIMIT ?`);

    const createAll = db.transaction((deliveries: NewDelivery[]) => {
      for (const d of deliveries) this.insert.run(d.deliveryId, d.eventId, d.customerId, d.workflowId, d.createdAt, d.createdAt, d.createdAt);
      return deliveries.map((d) => toDeliveryRecord(this.selectOne.get(d.deliveryId) as DeliveryRow));
    });
    this.createAll = (deliveries) => this.relaxed(() => createAll.immediate(deliveries));

    const finish = db.transaction((deliveryId: string, status: 'succeeded' | 'failed', reason: string | null, now: number) => {
      const row = this.selectOne.get(deliveryId);
      if (!row) return null;
      this.finishRow.run(status, reason, now, deliveryId);
      const counts = this.outcomeCounts.get(row.event_id) ?? { succeeded: 0, unfinished: 0 };
      const settled: EventStatus | null = counts.succeeded > 0 ? 'delivered' : counts.unfinished === 0 ? 'failed' : null;
      if (settled) this.settleEvent.run(settled, row.event_id, settled);
      return { eventStatus: this.selectEventStatus.get(row.event_id)?.status ?? settled ?? 'pending' };
    });
    this.finish = (deliveryId, status, reason, now) => this.relaxed(() => finish.immediate(deliveryId, status, reason, now));
  }

  async createDeliveries(deliveries: NewDelivery[]): Promise<DeliveryRecord[]> {
    if (deliveries.length === 0) return [];
    return withSqlite('createDeliveries', () => this.createAll(deliveries));
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
    return withSqlite('incrementAttempts', () => this.relaxed(() => this.casAttempts.run(claimUntil ?? null, now, deliveryId, expected).changes === 1));
  }

  async scheduleNextAttempt(deliveryId: string, nextAttemptAt: number): Promise<void> {
    withSqlite('scheduleNextAttempt', () => this.relaxed(() => this.updateNext.run(nextAttemptAt, Date.now(), deliveryId)));
  }

  async finishDelivery(deliveryId: string, outcome: { status: 'succeeded' | 'failed'; reason?: string; now: number }): Promise<{ eventStatus: EventStatus } | null> {
    return withSqlite('finishDelivery', () => this.finish(deliveryId, outcome.status, outcome.reason ?? null, outcome.now));
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
