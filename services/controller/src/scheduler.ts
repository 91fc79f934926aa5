/**
 * Time and timers, injected so that the work queue, the informer's backoff and the lease loop
 * are tested without sleeping (see ManualScheduler in scheduler.testing.ts).
 */
export interface Scheduler {
  now(): number;
  /** Runs `fn` after `ms`; returns a function that cancels it. */
  after(ms: number, fn: () => void): () => void;
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemScheduler: Scheduler = {
  now: () => Date.now(),
  after(ms, fn) {
    const timer = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(timer);
  },
  sleep(ms, signal) {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    });
  },
};

/**
 * Exponential backoff: `base * 2^(attempt-1)`, capped at `max`, with ±`jitter` (a fraction) so that
 * many clients retrying at once spread out. `attempt` starts at 1.
 */
export function backoffDelay(attempt: number, options: { baseMs: number; maxMs: number; jitter?: number; random?: () => number }): number {
  const { baseMs, maxMs, jitter = 0, random = Math.random } = options;
  const exponent = Math.min(Math.max(attempt, 1) - 1, 52);
  const delay = Math.min(maxMs, baseMs * 2 ** exponent);
  const spread = delay * jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(Math.min(maxMs, delay + spread)));
}
