import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
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
