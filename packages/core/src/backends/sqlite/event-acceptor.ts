import { systemClock, type Clock } from '../../clock.ts';
import type { Acceptance, EventAcceptor } from '../../ports/event-acceptor.ts';
import { eventMessage } from '../../ports/queue-messages.ts';
import type { SqliteDatabase } from './database.ts';
import { toSqliteDependencyError } from './errors.ts';
import { prepareInsertEvent } from './event-store.ts';
import { completeIdempotencyKey } from './idempotency-store.ts';
import { GroupCommit } from '../group-commit.ts';
import { prepareEnqueue } from './queue.ts';
import { topicSignalsFor } from './signals.ts';

export interface SqliteEventAcceptorOptions {
  clock?: Clock;
  /** The most events one group commit writes; further calls wait for the next group. Default 2,000. */
  maxGroupEvents?: number;
  /** Called after every group transaction (for metrics: group sizes, commit time). */
  onGroupCommitted?: (group: { calls: number; events: number; durationMs: number; ok: boolean }) => void;
}

/**
 * The outbox on SQLite: events, their `events` queue messages and the idempotency completion are
 * one transaction, so a 202 can never describe an event that is stored but not enqueued.
 *
 * Group commit (group-commit.ts): calls made in one turn of the event loop are written together
 * in one `BEGIN IMMEDIATE` transaction and therefore one fsync. If the transaction fails, every
 * caller of that group rejects with `DependencyError` and nothing of the group is stored.
 */
export class SqliteEventAcceptor implements EventAcceptor {
  private readonly groups: GroupCommit;

  constructor(db: SqliteDatabase, options: SqliteEventAcceptorOptions = {}) {
    const clock = options.clock ?? systemClock;
    const insertEvent = prepareInsertEvent(db);
    const enqueue = prepareEnqueue(db);
    const write = db.transaction((group: Acceptance[], now: number) => {
      for (const acceptance of group) {
        for (const event of acceptance.events) {
          insertEvent(event);
          enqueue('events', eventMessage(event, { traceparent: acceptance.traceparent }), now);
        }
        if (acceptance.idempotency) completeIdempotencyKey(db, acceptance.idempotency, now);
      }
    });
    const signals = topicSignalsFor(db);
    this.groups = new GroupCommit({
      maxGroupEvents: Math.max(1, options.maxGroupEvents ?? 2000),
      commit: (group) => {
        write.immediate(group, clock.now());
        signals.notify('events');
      },
      toError: (thrown) => toSqliteDependencyError(thrown, 'accepting events'),
      closedError: () => toSqliteDependencyError(new Error('the event acceptor is closed'), 'accepting events'),
      onGroupCommitted: options.onGroupCommitted,
    });
  }

  accept(acceptance: Acceptance): Promise<void> {
    return this.groups.submit(acceptance);
  }

  /** Writes everything still waiting, then refuses new calls. */
  close(): Promise<void> {
    return this.groups.close();
  }
}

export function createSqliteEventAcceptor(db: SqliteDatabase, options: SqliteEventAcceptorOptions = {}): SqliteEventAcceptor {
  return new SqliteEventAcceptor(db, options);
}
