import { systemClock, type Clock } from '../../clock.ts';
import type { Acceptance, EventAcceptor } from '../../ports/event-acceptor.ts';
import { eventMessage } from '../../ports/queue-messages.ts';
import type { Topic } from '../../ports/queue.ts';
import type { SqliteDatabase } from './database.ts';
import { toSqliteDependencyError } from './errors.ts';
import { prepareInsertEvent } from './event-store.ts';
import { completeIdempotencyKey } from './idempotency-store.ts';
import { prepareEnqueue } from './queue.ts';
import { topicSignalsFor } from './signals.ts';

export interface SqliteEventAcceptorOptions {
  clock?: Clock;
  /** The most events one group commit writes; further calls wait for the next group. Default 2,000. */
  maxGroupEvents?: number;
  /** Called after every group transaction (for metrics: group sizes, commit time). */
  onGroupCommitted?: (group: { calls: number; events: number; durationMs: number; ok: boolean }) => void;
}

interface PendingAcceptance {
  acceptance: Acceptance;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * The outbox on SQLite: events, their `events` queue messages and the idempotency completion are
 * one transaction, so a 202 can never describe an event that is stored but not enqueued.
 *
 * Group commit: calls made in one turn of the event loop are collected and written together at
 * the next `setImmediate`, in one `BEGIN IMMEDIATE` transaction and therefore one fsync. Every
 * caller of a group resolves after its commit; if the transaction fails, every caller of that
 * group rejects with `DependencyError` and nothing of the group is stored.
 */
export class SqliteEventAcceptor implements EventAcceptor {
  private readonly clock: Clock;
  private readonly maxGroupEvents: number;
  private readonly writeGroup: (group: PendingAcceptance[], now: number) => void;
  private readonly notifyEnqueued: (topic: Topic) => void;
  private readonly onGroupCommitted: SqliteEventAcceptorOptions['onGroupCommitted'];
  private queue: PendingAcceptance[] = [];
  private scheduled = false;
  private closed = false;

  constructor(db: SqliteDatabase, options: SqliteEventAcceptorOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.maxGroupEvents = Math.max(1, options.maxGroupEvents ?? 2000);
    this.onGroupCommitted = options.onGroupCommitted;
    const insertEvent = prepareInsertEvent(db);
    const enqueue = prepareEnqueue(db);
    const write = db.transaction((group: PendingAcceptance[], now: number) => {
      for (const { acceptance } of group) {
        for (const event of acceptance.events) {
          insertEvent(event);
          enqueue('events', eventMessage(event, { traceparent: acceptance.traceparent }), now);
        }
        if (acceptance.idempotency) completeIdempotencyKey(db, acceptance.idempotency, now);
      }
    });
    this.writeGroup = (group, now) => write.immediate(group, now);
    const signals = topicSignalsFor(db);
    this.notifyEnqueued = (topic) => signals.notify(topic);
  }

  accept(acceptance: Acceptance): Promise<void> {
    if (this.closed) return Promise.reject(toSqliteDependencyError(new Error('the event acceptor is closed'), 'accepting events'));
    if (acceptance.events.length === 0 && !acceptance.idempotency) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ acceptance, resolve, reject });
      this.schedule();
    });
  }

  /** Writes everything still waiting, then refuses new calls. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.queue.length > 0) this.commitNextGroup();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.commitNextGroup();
      if (this.queue.length > 0) this.schedule();
    });
  }

  /** Takes calls in arrival order up to the event cap (always at least one) and commits them. */
  private commitNextGroup(): void {
    let events = 0;
    let take = 0;
    while (take < this.queue.length) {
      const size = this.queue[take].acceptance.events.length;
      if (take > 0 && events + size > this.maxGroupEvents) break;
      events += size;
      take++;
    }
    const group = this.queue.slice(0, take);
    this.queue = this.queue.slice(take);
    if (group.length === 0) return;
    const started = performance.now();
    try {
      this.writeGroup(group, this.clock.now());
    } catch (thrown) {
      const error = toSqliteDependencyError(thrown, 'accepting events');
      this.onGroupCommitted?.({ calls: group.length, events, durationMs: performance.now() - started, ok: false });
      for (const pending of group) pending.reject(error);
      return;
    }
    this.onGroupCommitted?.({ calls: group.length, events, durationMs: performance.now() - started, ok: true });
    this.notifyEnqueued('events');
    for (const pending of group) pending.resolve();
  }
}

export function createSqliteEventAcceptor(db: SqliteDatabase, options: SqliteEventAcceptorOptions = {}): SqliteEventAcceptor {
  return new SqliteEventAcceptor(db, options);
}
