import type { Acceptance } from '../ports/event-acceptor.ts';

/**
 * Group commit, shared by both event acceptors: calls made while a group is waiting are written
 * together, so many requests share one transaction (SQLite: one fsync) or one store round trip.
 *
 * Each turn of the event loop commits the next group: the waiting calls in arrival order up to
 * `maxGroupEvents` events (always at least one call; a larger call goes alone). Every caller of a
 * group settles with its commit: all resolve, or all reject with `toError(thrown)`. An
 * asynchronous commit runs while later groups start. `close` commits what is waiting, waits for
 * the commits in flight, and from then on refuses calls with `closedError()`.
 */
export interface GroupCommitOptions {
  maxGroupEvents: number;
  /** Writes one group: returns (or resolves) when all of it is durable; throws when none of it is. */
  commit(group: Acceptance[]): void | Promise<void>;
  toError(thrown: unknown): Error;
  closedError(): Error;
  /** Called after every group (for metrics: group sizes, commit time). */
  onGroupCommitted?: (group: { calls: number; events: number; durationMs: number; ok: boolean }) => void;
}

interface Waiting {
  acceptance: Acceptance;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class GroupCommit {
  private waiting: Waiting[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private scheduled = false;
  private closed = false;

  constructor(private readonly options: GroupCommitOptions) {}

  submit(acceptance: Acceptance): Promise<void> {
    if (this.closed) return Promise.reject(this.options.closedError());
    if (acceptance.events.length === 0 && !acceptance.idempotency) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ acceptance, resolve, reject });
      this.schedule();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.waiting.length > 0) this.commitNextGroup();
    await Promise.all([...this.inFlight]);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.commitNextGroup();
      if (this.waiting.length > 0) this.schedule();
    });
  }

  private commitNextGroup(): void {
    let events = 0;
    let take = 0;
    while (take < this.waiting.length) {
      const size = this.waiting[take].acceptance.events.length;
      if (take > 0 && events + size > this.options.maxGroupEvents) break;
      events += size;
      take++;
    }
    const group = this.waiting.splice(0, take);
    if (group.length === 0) return;
    const started = performance.now();
    const settle = (error?: unknown) => {
      const ok = error === undefined;
      this.options.onGroupCommitted?.({ calls: group.length, events, durationMs: performance.now() - started, ok });
      if (ok) for (const w of group) w.resolve();
      else {
        const rejection = this.options.toError(error);
        for (const w of group) w.reject(rejection);
      }
    };
    let result: void | Promise<void>;
    try {
      result = this.options.commit(group.map((w) => w.acceptance));
    } catch (thrown) {
      settle(thrown ?? new Error('group commit failed'));
      return;
    }
    if (!(result instanceof Promise)) return settle();
    const done = result.then(
      () => settle(),
      (thrown: unknown) => settle(thrown ?? new Error('group commit failed')),
    );
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }
}
