import type { Statement } from 'better-sqlite3';
import type { DeliveryAttempt, EventStatus, NewEvent, StoredEvent } from '../../domain/events.ts';
import { EVENT_STATUSES } from '../../domain/events.ts';
import type { EventStore, InboxPage, InboxQuery } from '../../ports/event-store.ts';
import { TriggersError } from '../../errors.ts';
import { uuidv7LowerBound } from '../../ids.ts';
import { decodeCursor, encodeCursor, checkPageLimit } from '../cursor.ts';
import { isInboxCursor, toAttempt, toStoredEvent, type AttemptRow, type EventRow, type InboxCursor } from '../sql/event-rows.ts';
import { createRelaxedDurability, type SqliteDatabase } from './database.ts';
import { withSqlite } from './errors.ts';

const EVENT_COLUMNS = 'event_id, customer_id, event_type, payload, status, timestamp, delivery_attempts, last_delivery_timestamp';

const INSERT_EVENT_SQL = `
  INSERT INTO events (event_id, customer_id, event_type, payload, status, timestamp, delivery_attempts, last_delivery_timestamp)
  VALUES (?, ?, ?, ?, 'pending', ?, 0, NULL)`;

/** Prepares the insert of one `pending` event; the outbox reuses it inside its own transaction. */
export function prepareInsertEvent(db: SqliteDatabase): (event: NewEvent) => void {
  const statement = db.prepare(INSERT_EVENT_SQL);
  return (event) => {
    statement.run(event.eventId, event.customerId, event.eventType, event.payload.text, event.timestamp);
  };
}

/** Which optional predicates an inbox query uses; one prepared statement per combination. */
interface InboxShape {
  status: boolean;
  eventType: boolean;
  lower: boolean;
  upper: boolean;
}

function inboxSql(shape: InboxShape): string {
  const where = ['customer_id = @customerId'];
  if (shape.status) where.push('status = @status');
  if (shape.eventType) where.push('event_type = @eventType');
  if (shape.lower) where.push('event_id >= @lower');
  if (shape.upper) where.push('event_id < @upper');
  // Pin the index that serves the filter and the order; SQLite's planner has no statistics here.
  const index = shape.eventType
    ? 'events_customer_type_event_idx'
    : shape.status
      ? 'events_customer_status_event_idx'
      : 'events_customer_event_idx';
  return `SELECT ${EVENT_COLUMNS} FROM events INDEXED BY ${index}
          WHERE ${where.join(' AND ')} ORDER BY event_id DESC LIMIT @limit`;
}

export class SqliteEventStore implements EventStore {
  readonly kind = 'sqlite';
  private readonly insertEvent: (event: NewEvent) => void;
  private readonly insertAll: (events: NewEvent[]) => void;
  private readonly selectEvent: Statement<[string, string], EventRow>;
  private readonly inboxStatements = new Map<string, Statement<Record<string, unknown>, EventRow>>();
  private readonly updateStatusStatements = new Map<string, Statement<unknown[]>>();
  private readonly selectAttempts: Statement<[string, string], AttemptRow>;
  private readonly selectStalePending: Statement<[number, number], EventRow>;
  private readonly selectOne: Statement<[], unknown>;

  /**
   * Status changes and attempts are the pipeline's progress, not acknowledged input: losing one in
   * a power failure (never in a process crash) only makes the matcher or deliverer redo work,
   * which both do idempotently. So they skip their own fsync; the next durable commit (an ingest
   * group) persists them anyway, WAL being sequential.
   */
  private readonly relaxed: <T>(work: () => T) => T;

  constructor(private readonly db: SqliteDatabase) {
    this.relaxed = createRelaxedDurability(db);
    this.insertEvent = prepareInsertEvent(db);
    const insertMany = db.transaction((events: NewEvent[]) => {
      for (const event of events) this.insertEvent(event);
    });
    this.insertAll = (events) => insertMany.immediate(events);
    this.selectEvent = db.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE event_id = ? AND customer_id = ?`);
    this.selectAttempts = db.prepare(`
      SELECT event_id, customer_id, workflow_id, delivery_id, attempt, status, status_code, error, duration_ms, timestamp, response_body
        FROM delivery_attempts WHERE customer_id = ? AND event_id = ? ORDER BY timestamp, id`);
    this.selectStalePending = db.prepare(`
      SELECT ${EVENT_COLUMNS} FROM events INDEXED BY events_status_timestamp_idx
       WHERE status = 'pending' AND timestamp < ? ORDER BY timestamp LIMIT ?`);
    this.selectOne = db.prepare('SELECT 1');
  }

  async insertEvents(events: NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    withSqlite('inserting events', () => this.insertAll(events));
  }

  async getEvent(customerId: string, eventId: string): Promise<StoredEvent | null> {
    const row = withSqlite('reading an event', () => this.selectEvent.get(eventId, customerId));
    return row ? toStoredEvent(row) : null;
  }

  async listEvents(customerId: string, query: InboxQuery): Promise<InboxPage> {
    const limit = checkPageLimit(query.limit);
    const params: Record<string, unknown> = { customerId, limit: limit + 1 };
    if (query.status !== undefined) params.status = query.status;
    if (query.eventType !== undefined) params.eventType = query.eventType;
    if (query.startTime !== undefined) params.lower = uuidv7LowerBound(query.startTime);
    // Both the end time and the cursor are exclusive upper bounds: the tighter one wins.
    const uppers: string[] = [];
    if (query.endTime !== undefined) uppers.push(uuidv7LowerBound(query.endTime));
    if (query.cursor !== undefined) uppers.push(decodeCursor(query.cursor, isInboxCursor).before);
    if (uppers.length > 0) params.upper = uppers.reduce((a, b) => (a < b ? a : b));

    const statement = this.inboxStatement({
      status: 'status' in params,
      eventType: 'eventType' in params,
      lower: 'lower' in params,
      upper: 'upper' in params,
    });
    const rows = withSqlite('listing events', () => statement.all(params));
    const hasMore = rows.length > limit;
    const events = (hasMore ? rows.slice(0, limit) : rows).map(toStoredEvent);
    const nextCursor = hasMore ? encodeCursor({ before: events[events.length - 1].eventId } satisfies InboxCursor) : null;
    return { events, nextCursor };
  }

  async setStatus(customerId: string, eventId: string, status: EventStatus, onlyFrom?: EventStatus[]): Promise<boolean> {
    if (onlyFrom !== undefined) {
      const from = [...new Set(onlyFrom)].filter((s) => (EVENT_STATUSES as readonly string[]).includes(s)).sort();
      if (from.length === 0) return false;
      const statement = this.updateStatusStatement(from.length);
      return withSqlite('setting an event status', () => this.relaxed(() => statement.run(status, eventId, customerId, status, ...from).changes > 0));
    }
    const statement = this.updateStatusStatement(0);
    return withSqlite('setting an event status', () => this.relaxed(() => statement.run(status, eventId, customerId, status).changes > 0));
  }

  async listAttempts(customerId: string, eventId: string): Promise<DeliveryAttempt[]> {
    return withSqlite('listing delivery attempts', () => this.selectAttempts.all(customerId, eventId)).map(toAttempt);
  }

  async listStalePending(olderThan: number, limit: number): Promise<StoredEvent[]> {
    return withSqlite('listing stale pending events', () => this.selectStalePending.all(olderThan, Math.max(0, Math.floor(limit)))).map(toStoredEvent);
  }

  async ping(): Promise<void> {
    withSqlite('ping', () => this.selectOne.get());
  }

  /** The connection is shared by every adapter; whoever opened it closes it. */
  async close(): Promise<void> {}

  private inboxStatement(shape: InboxShape): Statement<Record<string, unknown>, EventRow> {
    const key = `${+shape.status}${+shape.eventType}${+shape.lower}${+shape.upper}`;
    let statement = this.inboxStatements.get(key);
    if (!statement) {
      statement = withSqlite('preparing the inbox query', () => this.db.prepare<Record<string, unknown>, EventRow>(inboxSql(shape)));
      this.inboxStatements.set(key, statement);
    }
    return statement;
  }

  /** `fromCount` 0 means unconditional; otherwise `status IN (?, ...)` with that many values. */
  private updateStatusStatement(fromCount: number): Statement<unknown[]> {
    const key = String(fromCount);
    let statement = this.updateStatusStatements.get(key);
    if (!statement) {
      const from = fromCount > 0 ? ` AND status IN (${Array.from({ length: fromCount }, () => '?').join(', ')})` : '';
      statement = withSqlite('preparing a status update', () =>
        this.db.prepare(`UPDATE events SET status = ? WHERE event_id = ? AND customer_id = ? AND status <> ?${from}`),
      );
      this.updateStatusStatements.set(key, statement);
    }
    return statement;
  }
}

export function createSqliteEventStore(db: SqliteDatabase): SqliteEventStore {
  return new SqliteEventStore(db);
}
