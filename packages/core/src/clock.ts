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
