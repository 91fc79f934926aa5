/** Injected time source so that pure logic (backoff, breakers, rate limits) is testable without sleeping. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that tests move by hand. */
export class ManualClock implements Clock {
  constructor(private current = 0) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
  set(ms: number): void {
    this.current = ms;
  }
}

let lastIsoMs = Number.NaN;
let lastIso = '';

export function toIsoMillis(ms: number): string {
  // The events of one request (and of many in a row) share their millisecond: format it once.
  if (ms !== lastIsoMs) {
    lastIso = new Date(ms).toISOString();
    lastIsoMs = ms;
  }
  return lastIso;
}

// ---------------------------------------------------------------- precise wall-clock readings

/**
 * Wall-clock milliseconds with sub-millisecond precision that stay on the wall clock.
 *
 * `performance.timeOrigin + performance.now()` is fixed to the wall clock once, when the process
 * starts, and then follows the monotonic clock, which NTP's slewing and steps do not move: as the
 * process ages it drifts from `Date.now()` and from a younger process's reading (CI measured 906 ms
 * after an 18-minute test run). This reading re-anchors on the wall clock once a second and adds the
 * monotonic time since, so it is never further from the wall clock than a second's drift plus 1 ms
 * (`Date.now()`'s resolution). Spans and cross-process latency stamps use it; a duration should
 * still be the difference of two `performance.now()` readings, which a re-anchoring cannot bend.
 */
export function createPreciseWallClock(readWallMs: () => number = Date.now, readMonotonicMs: () => number = () => performance.now(), reanchorEveryMs = 1000): () => number {
  let anchorWallMs = readWallMs();
  let anchorMonotonicMs = readMonotonicMs();
  return () => {
    const monotonicMs = readMonotonicMs();
    if (monotonicMs - anchorMonotonicMs >= reanchorEveryMs) {
      anchorWallMs = readWallMs();
      anchorMonotonicMs = monotonicMs;
    }
    return anchorWallMs + (monotonicMs - anchorMonotonicMs);
  };
}

/** This process's precise wall clock (see `createPreciseWallClock`). */
export const preciseWallMs: () => number = createPreciseWallClock();
