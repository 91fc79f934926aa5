import fs from 'node:fs';
import { systemClock, type Clock } from '../../clock.ts';
import type { Acceptance, EventAcceptor } from '../../ports/event-acceptor.ts';
import { eventGroupMessages } from '../../ports/queue-messages.ts';
import { createRelaxedDurability, type SqliteDatabase } from './database.ts';
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
 * one transaction, so a 202 can never describe an event that is stored but not enqueued. The
 * events of one customer in a group share one message (`eventIds`, each with its own trace context).
 *
 * Group commit (group-commit.ts): calls made in one turn of the event loop are written together
 * in one `BEGIN IMMEDIATE` transaction and therefore one fsync. If the transaction fails, every
 * caller of that group rejects with `DependencyError` and nothing of the group is stored.
 *
 * The fsync does not block the event loop (see `WalSync`): with `synchronous=full` the
 * transaction commits into the WAL without SQLite's own sync, and the group's callers resolve
 * once an `fdatasync` of the WAL file, run on libuv's thread pool, has returned — the same bytes
 * on disk before the 202 as SQLite's sync at commit would give, while the thread parses the next
 * requests (and commits the next group) in the meantime.
 */
export class SqliteEventAcceptor implements EventAcceptor {
  private readonly groups: GroupCommit;
  private readonly walSync: WalSync | undefined;

  constructor(db: SqliteDatabase, options: SqliteEventAcceptorOptions = {}) {
    const clock = options.clock ?? systemClock;
    const insertEvent = prepareInsertEvent(db);
    const enqueue = prepareEnqueue(db);
    const write = db.transaction((group: Acceptance[], now: number) => {
      // One `events` message per customer in the group, not one per event: the matcher then
      // receives, claims and acknowledges once for all of them. Each event keeps its request's
      // trace context (`traceparents` when they differ), so tracing on changes no message count.
      const messages = new Map<string, { eventIds: string[]; traceparents: (string | undefined)[] }>();
      for (const acceptance of group) {
        for (const event of acceptance.events) {
          insertEvent(event);
          const entry = messages.get(event.customerId);
          if (entry) {
            entry.eventIds.push(event.eventId);
            entry.traceparents.push(acceptance.traceparent);
          } else {
            messages.set(event.customerId, { eventIds: [event.eventId], traceparents: [acceptance.traceparent] });
          }
        }
        if (acceptance.idempotency) completeIdempotencyKey(db, acceptance.idempotency, now);
      }
      for (const [customerId, { eventIds, traceparents }] of messages) {
        for (const message of eventGroupMessages(customerId, eventIds, { traceparents })) enqueue('events', message, now);
      }
    });
    const signals = topicSignalsFor(db);
    const walSync = WalSync.forDatabase(db);
    this.walSync = walSync;
    const relaxed = createRelaxedDurability(db);
    this.groups = new GroupCommit({
      maxGroupEvents: Math.max(1, options.maxGroupEvents ?? 2000),
      commit: walSync
        ? async (group) => {
            relaxed(() => write.immediate(group, clock.now()));
            await walSync.sync();
            signals.notify('events');
          }
        : (group) => {
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
  async close(): Promise<void> {
    await this.groups.close();
    this.walSync?.close();
  }
}

/**
 * Makes what SQLite committed to the WAL durable, off the event loop: `fdatasync` of the WAL file
 * on libuv's thread pool. `PRAGMA synchronous=full` in WAL mode means exactly this sync after each
 * commit (sqlite.org/pragma.html#pragma_synchronous), done there on the committing thread; a sync
 * of the file flushes every byte written to it before the call, through any descriptor, so
 * commits made before it (other groups', relaxed writes') are durable too. A checkpoint may copy
 * the WAL into the database and restart it from the top, but only after syncing both (SQLite does
 * that at every level), so nothing committed waits on a WAL region being overwritten.
 *
 * Only for a file database in WAL mode at `synchronous` full or extra; `forDatabase` returns
 * undefined otherwise (and the acceptor commits as before). The descriptor is opened once the WAL
 * exists and reopened if the file was replaced (same path, new inode).
 */
class WalSync {
  private fd: number | undefined;
  private inode: number | undefined;

  private constructor(private readonly walPath: string) {}

  static forDatabase(db: SqliteDatabase): WalSync | undefined {
    if (db.memory) return undefined;
    const level = Number(db.pragma('synchronous', { simple: true }));
    const mode = String(db.pragma('journal_mode', { simple: true })).toLowerCase();
    if (level < 2 || mode !== 'wal') return undefined;
    return new WalSync(`${db.name}-wal`);
  }

  async sync(): Promise<void> {
    const fd = this.descriptor();
    await new Promise<void>((resolve, reject) => fs.fdatasync(fd, (error) => (error ? reject(error) : resolve())));
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private descriptor(): number {
    // The committing call has just written to the WAL, so it exists; a stat per group (µs) catches a
    // WAL that another process removed and recreated since it was opened.
    const inode = fs.statSync(this.walPath).ino;
    if (this.fd === undefined || inode !== this.inode) {
      this.close();
      this.fd = fs.openSync(this.walPath, 'r');
      this.inode = fs.fstatSync(this.fd).ino;
    }
    return this.fd;
  }
}

export function createSqliteEventAcceptor(db: SqliteDatabase, options: SqliteEventAcceptorOptions = {}): SqliteEventAcceptor {
  return new SqliteEventAcceptor(db, options);
}
