import { createRelaxedDurability, type SqliteDatabase } from './database.ts';
import { toSqliteDependencyError } from './errors.ts';

interface Waiting {
  action: string;
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/**
 * The pipeline's progress writes on one connection (delivery rows, attempts, event statuses),
 * group-committed: the writes submitted during one turn of the event loop commit together, in one
 * `BEGIN IMMEDIATE` transaction without their own fsync (see `createRelaxedDurability`: progress,
 * not acknowledged input). At a few thousand deliveries a second that turns several small
 * transactions per delivery into one per turn for all of them.
 *
 * Each write runs in a savepoint of its own: one that throws rolls back alone and rejects only
 * its caller. A write's promise settles once its transaction committed: all of a group resolve,
 * or (the commit failed) all reject.
 */
export class ProgressWriter {
  private waiting: Waiting[] = [];
  private scheduled = false;
  /** While `together` runs its `submit`: where `run` puts the writes instead of `waiting`. */
  private capturing: Waiting[] | undefined;
  private readonly relaxed: <T>(work: () => T) => T;
  private readonly commitGroup: (group: Waiting[]) => { results: unknown[]; errors: (Error | undefined)[] };

  constructor(private readonly db: SqliteDatabase) {
    this.relaxed = createRelaxedDurability(db);
    // Nested inside the group's transaction, better-sqlite3 runs this in a SAVEPOINT.
    const inSavepoint = db.transaction((work: () => unknown) => work());
    const group = db.transaction((items: Waiting[]) => {
      const results: unknown[] = [];
      const errors: (Error | undefined)[] = [];
      for (const item of items) {
        try {
          results.push(inSavepoint(item.work));
          errors.push(undefined);
        } catch (thrown) {
          // An error that ended the whole transaction (I/O, out of space) fails the group.
          if (!db.inTransaction) throw thrown;
          results.push(undefined);
          errors.push(toSqliteDependencyError(thrown, item.action));
        }
      }
      return { results, errors };
    });
    this.commitGroup = (items) => this.relaxed(() => group.immediate(items));
  }

  /** Runs `work` in the next group's transaction; resolves with its result once that committed. */
  run<T>(action: string, work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const item = { action, work, resolve: resolve as (value: unknown) => void, reject };
      if (this.capturing) this.capturing.push(item);
      else this.submit(item);
    });
  }

  /**
   * Commits the writes `submit` makes synchronously (before its first `await`) and `also` in one
   * savepoint of the next group: all of them or none (`also` is not run when one of them throws,
   * and they are not committed when `also` throws). Resolves with `submit`'s result. When `submit`
   * made no write synchronously, `also` runs in a write of its own once `submit` resolved.
   */
  async together<T>(submit: () => Promise<T>, action: string, also: () => unknown): Promise<T> {
    const outer = this.capturing;
    const captured: Waiting[] = [];
    this.capturing = captured;
    let pending: Promise<T>;
    try {
      pending = submit();
    } finally {
      this.capturing = outer;
    }
    if (captured.length === 0) {
      const result = await pending;
      await this.run(action, also);
      return result;
    }
    this.submit({
      action: `${captured.map((c) => c.action).join(', ')} and ${action}`,
      work: () => {
        const results = captured.map((c) => c.work());
        also();
        return results;
      },
      resolve: (results) => captured.forEach((c, i) => c.resolve((results as unknown[])[i])),
      reject: (error) => captured.forEach((c) => c.reject(error)),
    });
    return pending;
  }

  private submit(item: Waiting): void {
    this.waiting.push(item);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Commits what is waiting now (before the connection closes). */
  flush(): void {
    this.scheduled = false;
    const group = this.waiting;
    if (group.length === 0) return;
    this.waiting = [];
    if (!this.db.open) {
      const error = toSqliteDependencyError(new Error('the database connection is closed'), group[0].action);
      for (const item of group) item.reject(error);
      return;
    }
    let outcome: ReturnType<typeof this.commitGroup>;
    try {
      outcome = this.commitGroup(group);
    } catch (thrown) {
      const error = toSqliteDependencyError(thrown, group.length === 1 ? group[0].action : `${group[0].action} (with ${group.length - 1} other writes)`);
      for (const item of group) item.reject(error);
      return;
    }
    group.forEach((item, i) => {
      const error = outcome.errors[i];
      if (error) item.reject(error);
      else item.resolve(outcome.results[i]);
    });
  }
}

const writers = new WeakMap<SqliteDatabase, ProgressWriter>();

/** The one progress writer of a connection, shared by every adapter on it. */
export function progressWriterOf(db: SqliteDatabase): ProgressWriter {
  let writer = writers.get(db);
  if (!writer) {
    writer = new ProgressWriter(db);
    writers.set(db, writer);
  }
  return writer;
}
