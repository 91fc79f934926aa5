import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { TriggersError } from '@triggers/core/domain';

/** A fresh id for every test's own customers and keys: suites never truncate shared stores. */
export function uniqueId(): string {
  return randomUUID();
}

/**
 * A UUIDv7 for an arbitrary millisecond (ids.ts's generator is monotonic and would clamp a past
 * time to the latest one). Ids of one millisecond order randomly, as ids from several processes do.
 */
export function uuidv7At(ms: number): string {
  const timeHex = Math.floor(ms).toString(16).padStart(12, '0');
  const rand = randomBytes(10);
  rand[2] = (rand[2] & 0x3f) | 0x80;
  const hex = rand.toString('hex');
  return `${timeHex.slice(0, 8)}-${timeHex.slice(8, 12)}-7${hex.slice(0, 3)}-${hex.slice(4, 8)}-${hex.slice(8, 20)}`;
}

export function sleep(ms: number): Promise<void> {
  return sleepFor(Math.max(0, ms));
}

/** `it` when the capability holds, `it.skip` otherwise: suites skip by capability, never by backend name. */
export function itIf(condition: boolean): Mocha.TestFunction | Mocha.PendingTestFunction {
  return condition ? it : it.skip;
}

export async function assertInvalidRequest(promise: Promise<unknown>, message: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof TriggersError, `${message}: expected a TriggersError, got ${String(error)}`);
    assert.equal(error.code, 'invalid_request', message);
    return true;
  });
}

/** Polls `check` until it returns true; returns the milliseconds it took, or fails naming `what`. */
export async function waitUntil(check: () => Promise<boolean>, options: { timeoutMs: number; intervalMs?: number; what: string }): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > options.timeoutMs) assert.fail(`Timed out after ${options.timeoutMs} ms waiting for ${options.what}`);
    await sleep(options.intervalMs ?? 20);
  }
}

/** Polls `check` until it returns a value other than undefined; fails with `describe()` after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs: number, describe: () => string, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`Timed out after ${timeoutMs} ms: ${describe()}`);
    await sleep(intervalMs);
  }
}

/** Milliseconds between consecutive values. */
export function gaps(times: number[]): number[] {
  return times.slice(1).map((t, i) => t - times[i]);
}

/**
 * Watches this process's event loop. On a shared machine the whole process (server and test
 * alike) can be held up by other tenants; a timing bound may excuse a stall it measured, which on
 * a quiet machine is a few milliseconds.
 */
export function watchEventLoopStalls(): { longestMs(): number; stop(): void } {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  return {
    longestMs: () => Math.round(histogram.max / 1e6),
    stop: () => histogram.disable(),
  };
}
