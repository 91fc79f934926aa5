import type { EventStatus } from '../../domain/events.ts';
import type { AttemptOutcome, DeliveryRecord, DeliveryStore, EventRef, NewDelivery } from '../../ports/delivery-store.ts';
import { toDeliveryRecord, type DeliveryRow } from '../sql/delivery-rows.ts';
import { isUuid } from '../../ids.ts';
import type { PostgresDatabase } from './database.ts';
import { withPostgres } from './errors.ts';
import { query, type Queryable } from './sql.ts';

const COLUMNS = 'delivery_id, event_id, customer_id, workflow_id, status, attempts_made, next_attempt_at, failure_reason, created_at, updated_at, replay_id';

// A redelivered `events` message re-creates the same ids: the first rows win, untouched.
const INSERT_SQL = `
  INSERT INTO deliveries (${COLUMNS})
  SELECT d.delivery_id, d.event_id, d.customer_id, d.workflow_id, 'pending', 0, d.created_at, NULL, d.created_at, d.created_at, d.replay_id
    FROM unnest(?::varchar[], ?::uuid[], ?::uuid[], ?::uuid[], ?::bigint[], ?::varchar[]) AS d(delivery_id, event_id, customer_id, workflow_id, created_at, replay_id)
  ON CONFLICT (delivery_id) DO NOTHING`;

const SELECT_MANY_SQL = `SELECT ${COLUMNS} FROM deliveries WHERE delivery_id = ANY(?::varchar[])`;
const SELECT_ONE_SQL = `SELECT ${COLUMNS} FROM deliveries WHERE delivery_id = ?`;
const SELECT_BY_EVENT_SQL = `SELECT ${COLUMNS} FROM deliveries WHERE event_id = ? AND customer_id = ? ORDER BY created_at, delivery_id`;

// Compare-and-set: of two consumers racing for attempt N, the second re-checks `attempts_made`
// after the first commits (PostgreSQL re-evaluates the WHERE on the updated row) and changes nothing.
const CLAIM_ATTEMPT_SQL = `
  UPDATE deliveries SET attempts_made = attempts_made + 1, next_attempt_at = COALESCE(?::bigint, next_attempt_at), updated_at = ?
   WHERE delivery_id = ? AND attempts_made = ? AND status = 'pending'`;

const SCHEDULE_SQL = 'UPDATE deliveries SET next_attempt_at = ?, updated_at = GREATEST(updated_at, ?::bigint) WHERE delivery_id = ?';

// Finishing locks the event row first: finishes of one event's deliveries queue behind each other,
// so the last one to finish always counts the others' outcomes (committed before it got the lock).
const LOCK_EVENT_OF_DELIVERY_SQL = `
  SELECT d.event_id::text AS event_id, e.status AS event_status
    FROM deliveries d
    LEFT JOIN LATERAL (SELECT status FROM events WHERE events.event_id = d.event_id::text FOR UPDATE) e ON true
   WHERE d.delivery_id = ?`;

/**
 * Ends a pending delivery and settles its event in one statement, run while the event's row is
 * locked (so it starts after every other finisher of the event committed, and its snapshot counts
 * their outcomes): `delivered` once any delivery succeeded, `failed` once all ended without
 * success, else unchanged. The finished row's new status comes from the UPDATE, as the statement's
 * snapshot still holds the old one.
 */
const FINISH_AND_SETTLE_SQL = `
  WITH finished AS (
    UPDATE deliveries SET status = ?, failure_reason = ?, updated_at = ?
     WHERE delivery_id = ? AND status = 'pending'
    RETURNING delivery_id, status
  ), outcome AS (
    SELECT CASE WHEN count(*) FILTER (WHERE s.status = 'succeeded') > 0 THEN 'delivered'
                WHEN count(*) FILTER (WHERE s.status = 'pending') = 0 THEN 'failed' END AS status
      FROM (SELECT COALESCE(f.status, d.status) AS status
              FROM deliveries d LEFT JOIN finished f ON f.delivery_id = d.delivery_id
             WHERE d.event_id = ?::uuid) s
  )
  UPDATE events SET status = outcome.status FROM outcome
   WHERE events.event_id = ? AND outcome.status IS NOT NULL AND events.status <> outcome.status
  RETURNING events.status`;

/**
 * The attempt row and the event's counters in one statement, which also locks the event's row (the
 * UPDATE) before anything touches the delivery, as LOCK_EVENT_OF_DELIVERY_SQL does. Nothing is
 * written for an unknown delivery (no row returned).
 */
const RECORD_ATTEMPT_SQL = `
  WITH delivery AS (
    SELECT event_id::text AS event_id FROM deliveries WHERE delivery_id = ?
  ), counted AS (
    UPDATE events SET delivery_attempts = delivery_attempts + 1,
           last_delivery_timestamp = GREATEST(COALESCE(last_delivery_timestamp, 0), ?::bigint)
     WHERE event_id = (SELECT event_id FROM delivery) AND customer_id = ?
    RETURNING status
  ), attempt AS (
    INSERT INTO delivery_attempts (event_id, customer_id, workflow_id, delivery_id, attempt, status, status_code, error, duration_ms, "timestamp", response_body)
    SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM delivery)
  )
  SELECT delivery.event_id, (SELECT status FROM counted) AS event_status FROM delivery`;

// Only the latest claimed attempt's outcome moves the due time (a late one would cut short a newer claim's lease).
const RESCHEDULE_AFTER_ATTEMPT_SQL = `
  UPDATE deliveries SET next_attempt_at = ?, updated_at = GREATEST(updated_at, ?::bigint)
   WHERE delivery_id = ? AND status = 'pending' AND attempts_made = ?`;

const SETTLE_UNMATCHED_SQL = `
  UPDATE events SET status = 'unmatched'
    FROM unnest(?::varchar[], ?::varchar[]) AS u(event_id, customer_id)
   WHERE events.event_id = u.event_id AND events.customer_id = u.customer_id AND events.status = 'pending'
     AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = events.event_id::uuid)`;

const SELECT_OVERDUE_SQL = `
  SELECT ${COLUMNS} FROM deliveries
   WHERE status = 'pending' AND next_attempt_at < ?
   ORDER BY next_attempt_at LIMIT ?`;

// UUIDv7 event ids compare in acceptance order (uuid compares bytes); `deliveries_in_order` serves it.
const SELECT_IN_ORDER_SQL = `
  SELECT ${COLUMNS} FROM deliveries
   WHERE workflow_id = ? AND status = 'pending'
   ORDER BY event_id, delivery_id LIMIT ?`;

// Event ids are UUIDs, so the cast lets the anti-join use the deliveries' event_id index.
const SELECT_STRANDED_SQL = `
  SELECT e.event_id, e.customer_id FROM events e
   WHERE e.status = 'pending' AND e."timestamp" < ?
     AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.event_id::uuid)
   ORDER BY e."timestamp" LIMIT ?`;

/**
 * Deliveries in the same database as the events, so recording an attempt, finishing its delivery
 * and settling the event's status is one transaction.
 */
export class PostgresDeliveryStore implements DeliveryStore {
  readonly kind = 'postgres';

  constructor(private readonly db: PostgresDatabase) {}

  async createDeliveries(deliveries: NewDelivery[]): Promise<DeliveryRecord[]> {
    if (deliveries.length === 0) return [];
    const ids = deliveries.map((d) => d.deliveryId);
    const rows = await withPostgres('creating deliveries', async () => {
      await query(this.db, INSERT_SQL, [
        ids,
        deliveries.map((d) => d.eventId),
        deliveries.map((d) => d.customerId),
        deliveries.map((d) => d.workflowId),
        deliveries.map((d) => d.createdAt),
        deliveries.map((d) => d.replayId ?? null),
      ]);
      // A statement of its own, so it also sees rows that a concurrent creator committed meanwhile.
      return (await query<DeliveryRow>(this.db, SELECT_MANY_SQL, [ids])).rows;
    });
    const byId = new Map(rows.map((row) => [row.delivery_id, toDeliveryRecord(row)]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  async pendingInOrder(workflowId: string, limit: number): Promise<DeliveryRecord[]> {
    if (!isUuid(workflowId)) return [];
    const { rows } = await withPostgres('listing pending deliveries in order', () => query<DeliveryRow>(this.db, SELECT_IN_ORDER_SQL, [workflowId, limit]));
    return rows.map(toDeliveryRecord);
  }

  async getDelivery(deliveryId: string): Promise<DeliveryRecord | null> {
    const { rows } = await withPostgres('reading a delivery', () => query<DeliveryRow>(this.db, SELECT_ONE_SQL, [deliveryId]));
    return rows[0] ? toDeliveryRecord(rows[0]) : null;
  }

  async listDeliveries(customerId: string, eventId: string): Promise<DeliveryRecord[]> {
    // The columns are uuid: anything else cannot match (and must not reach the cast as an error).
    if (!isUuid(customerId) || !isUuid(eventId)) return [];
    const { rows } = await withPostgres('listing deliveries', () => query<DeliveryRow>(this.db, SELECT_BY_EVENT_SQL, [eventId, customerId]));
    return rows.map(toDeliveryRecord);
  }

  async incrementAttempts(deliveryId: string, expected: number, now: number, claimUntil?: number): Promise<boolean> {
    const result = await withPostgres('claiming a delivery attempt', () =>
      query(this.db, CLAIM_ATTEMPT_SQL, [claimUntil ?? null, now, deliveryId, expected]),
    );
    return result.rowCount === 1;
  }

  async scheduleNextAttempt(deliveryId: string, nextAttemptAt: number): Promise<void> {
    await withPostgres('scheduling the next attempt', () => query(this.db, SCHEDULE_SQL, [nextAttemptAt, Date.now(), deliveryId]));
  }

  async finishDelivery(deliveryId: string, outcome: { status: 'succeeded' | 'failed'; reason?: string; now: number }): Promise<{ eventStatus: EventStatus } | null> {
    return withPostgres('finishing a delivery', () =>
      this.db.transaction(async (trx) => {
        const locked = await lockEventOf(trx, deliveryId);
        return locked ? finish(trx, deliveryId, locked, outcome.status, outcome.reason ?? null, outcome.now) : null;
      }),
    );
  }

  async recordAttempts(outcomes: AttemptOutcome[]): Promise<Array<{ eventStatus: EventStatus } | null>> {
    if (outcomes.length === 0) return [];
    // Events are locked in one order (their ids), so two calls over the same events cannot deadlock.
    const order = outcomes.map((_, i) => i).sort((x, y) => (outcomes[x].attempt.eventId < outcomes[y].attempt.eventId ? -1 : outcomes[x].attempt.eventId > outcomes[y].attempt.eventId ? 1 : 0));
    return withPostgres('recording delivery attempts', () =>
      this.db.transaction(async (trx) => {
        const results: Array<{ eventStatus: EventStatus } | null> = new Array(outcomes.length).fill(null);
        for (const i of order) results[i] = await record(trx, outcomes[i]);
        return results;
      }),
    );
  }

  async settleUnmatched(events: EventRef[]): Promise<void> {
    if (events.length === 0) return;
    await withPostgres('settling unmatched events', () => query(this.db, SETTLE_UNMATCHED_SQL, [events.map((e) => e.eventId), events.map((e) => e.customerId)]));
  }

  async listOverdue(now: number, graceMs: number, limit: number) {
    const bound = now - graceMs;
    const size = Math.max(0, Math.floor(limit));
    const [overdue, stranded] = await withPostgres('listing overdue deliveries', () =>
      Promise.all([
        query<DeliveryRow>(this.db, SELECT_OVERDUE_SQL, [bound, size]),
        query<{ event_id: string; customer_id: string }>(this.db, SELECT_STRANDED_SQL, [bound, size]),
      ]),
    );
    return {
      deliveries: overdue.rows.map(toDeliveryRecord),
      eventsWithoutDeliveries: stranded.rows.map((r) => ({ eventId: r.event_id, customerId: r.customer_id })),
    };
  }

  async ping(): Promise<void> {
    await withPostgres('ping', () => query(this.db, 'SELECT 1'));
  }

  /** The pool is shared by every adapter; whoever opened it closes it. */
  async close(): Promise<void> {}
}

export function createPostgresDeliveryStore(db: PostgresDatabase): PostgresDeliveryStore {
  return new PostgresDeliveryStore(db);
}

interface LockedEvent {
  event_id: string;
  event_status: EventStatus | null;
}

/** Locks the event of a delivery (null: no such delivery). */
async function lockEventOf(trx: Queryable, deliveryId: string): Promise<LockedEvent | null> {
  const { rows } = await query<LockedEvent>(trx, LOCK_EVENT_OF_DELIVERY_SQL, [deliveryId]);
  return rows[0] ?? null;
}

/** Ends a pending delivery (a finished one stays as it is) and settles its event, whose row `locked` holds. */
async function finish(trx: Queryable, deliveryId: string, locked: LockedEvent, status: 'succeeded' | 'failed', reason: string | null, now: number): Promise<{ eventStatus: EventStatus }> {
  const settled = await query<{ status: EventStatus }>(trx, FINISH_AND_SETTLE_SQL, [status, reason, now, deliveryId, locked.event_id, locked.event_id]);
  return { eventStatus: settled.rows[0]?.status ?? locked.event_status ?? 'pending' };
}

/** Two statements (three with a retry): the attempt, counters and event lock; then the delivery's end or next due time. */
async function record(trx: Queryable, outcome: AttemptOutcome): Promise<{ eventStatus: EventStatus } | null> {
  const a = outcome.attempt;
  const { rows } = await query<LockedEvent>(trx, RECORD_ATTEMPT_SQL, [
    outcome.deliveryId,
    a.timestamp,
    a.customerId,
    a.eventId,
    a.customerId,
    a.workflowId,
    a.deliveryId,
    a.attempt,
    a.status,
    a.statusCode,
    a.error,
    Math.round(a.durationMs),
    a.timestamp,
    a.responseBody,
  ]);
  const locked = rows[0];
  if (!locked) return null;
  const next = outcome.next;
  if (next.status === 'retrying') {
    await query(trx, RESCHEDULE_AFTER_ATTEMPT_SQL, [next.nextAttemptAt, outcome.now, outcome.deliveryId, a.attempt]);
    return { eventStatus: locked.event_status ?? 'pending' };
  }
  return finish(trx, outcome.deliveryId, locked, next.status, next.status === 'failed' ? next.reason : null, outcome.now);
}
