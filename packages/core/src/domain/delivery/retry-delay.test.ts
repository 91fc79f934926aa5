import assert from 'node:assert/strict';
import { computeRetryDelay, effectiveRetryPolicy, honoursRetryAfter, MAX_RETRY_AFTER_MS, parseRetryAfter } from './retry-delay.ts';

const noJitter = () => 0.5;
const base = { baseMs: 2000, maxDelayMs: 24 * 3600_000 };

describe('computeRetryDelay', () => {
  it('doubles from the base delay with each attempt', () => {
    const delays = [1, 2, 3, 4, 5].map((attempt) => computeRetryDelay({ ...base, attempt, random: noJitter }));
    assert.deepEqual(delays, [2000, 4000, 8000, 16000, 32000]);
  });

  it('caps the schedule at maxDelayMs', () => {
    assert.equal(computeRetryDelay({ ...base, attempt: 40, random: noJitter }), 24 * 3600_000);
    assert.equal(computeRetryDelay({ baseMs: 1000, maxDelayMs: 5000, attempt: 4, random: noJitter }), 5000);
  });

  it('follows an explicit schedule, repeating its last entry, capped at maxDelayMs', () => {
    const scheduleMs = [500, 60_000, 3_600_000];
    const delays = [1, 2, 3, 4, 9].map((attempt) => computeRetryDelay({ ...base, scheduleMs, attempt, random: noJitter }));
    assert.deepEqual(delays, [500, 60_000, 3_600_000, 3_600_000, 3_600_000]);
    assert.equal(computeRetryDelay({ baseMs: 2000, maxDelayMs: 10_000, scheduleMs, attempt: 2, random: noJitter }), 10_000);
    assert.equal(computeRetryDelay({ ...base, scheduleMs, attempt: 1, random: () => 0 }), 400, 'jitter applies to a schedule too');
  });

  it('applies ±20 % jitter from the injected random source', () => {
    assert.equal(computeRetryDelay({ ...base, attempt: 2, random: () => 0 }), 3200);
    assert.equal(computeRetryDelay({ ...base, attempt: 2, random: () => 0.75 }), 4400);
    assert.ok(computeRetryDelay({ ...base, attempt: 2, random: () => 0.999999 }) <= 4800);
    for (let i = 0; i < 1000; i++) {
      const delay = computeRetryDelay({ ...base, attempt: 3, random: Math.random });
      assert.ok(delay >= 6400 && delay <= 9600, `${delay} outside 8000 ± 20 %`);
    }
  });

  it('honours a Retry-After longer than the delay in full: max(delay, Retry-After)', () => {
    assert.equal(computeRetryDelay({ ...base, attempt: 1, random: noJitter, retryAfterMs: 3000 }), 3000);
    // Far beyond twice the delay (the old clamp): an hour asked is an hour waited.
    assert.equal(computeRetryDelay({ ...base, attempt: 1, random: noJitter, retryAfterMs: 3600_000 }), 3600_000);
    assert.equal(computeRetryDelay({ ...base, attempt: 1, random: () => 0, retryAfterMs: 3600_000 }), 3600_000);
  });

  it('raises a Retry-After shorter than the delay to the delay', () => {
    assert.equal(computeRetryDelay({ ...base, attempt: 3, random: noJitter, retryAfterMs: 0 }), 8000);
    assert.equal(computeRetryDelay({ ...base, attempt: 3, random: noJitter, retryAfterMs: 1000 }), 8000);
  });

  it('lowers a Retry-After beyond 24 h to 24 h', () => {
    assert.equal(MAX_RETRY_AFTER_MS, 24 * 3600_000);
    assert.equal(computeRetryDelay({ ...base, attempt: 1, random: noJitter, retryAfterMs: 24 * 3600_000 }), 24 * 3600_000);
    assert.equal(computeRetryDelay({ ...base, attempt: 1, random: noJitter, retryAfterMs: 7 * 24 * 3600_000 }), 24 * 3600_000);
  });

  it('honours Retry-After on 429 and 503 only', () => {
    assert.deepEqual([429, 503].map(honoursRetryAfter), [true, true]);
    assert.deepEqual([500, 502, 504, 408, 200, null].map(honoursRetryAfter), [false, false, false, false, false, false]);
  });

  it('rejects an attempt number below 1 and a random source outside [0, 1)', () => {
    assert.throws(() => computeRetryDelay({ ...base, attempt: 0, random: noJitter }), RangeError);
    assert.throws(() => computeRetryDelay({ ...base, attempt: 1.5, random: noJitter }), RangeError);
    assert.throws(() => computeRetryDelay({ ...base, attempt: 1, random: () => 1 }), RangeError);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2025, 0, 15, 12, 0, 0);

  it('reads delta-seconds as milliseconds', () => {
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter(' 0 ', now), 0);
    assert.equal(parseRetryAfter(['7', '9'], now), 7000);
  });

  it('reads the three HTTP-date forms as time from now, in GMT', () => {
    assert.equal(parseRetryAfter('Wed, 15 Jan 2025 12:01:30 GMT', now), 90_000);
    assert.equal(parseRetryAfter('Wednesday, 15-Jan-25 12:01:30 GMT', now), 90_000);
    assert.equal(parseRetryAfter('Wed Jan 15 12:01:30 2025', now), 90_000);
    assert.equal(parseRetryAfter('Wed Jan  5 12:00:00 2025', Date.UTC(2025, 0, 5, 11, 59, 0)), 60_000);
  });

  it('gives 0 for a date in the past', () => {
    assert.equal(parseRetryAfter('Tue, 14 Jan 2025 12:00:00 GMT', now), 0);
  });

  it('ignores anything else', () => {
    for (const value of [undefined, null, '', 'soon', '-5', '1.5', '10s', 'Wed, 31 Feb 2025 12:00:00 GMT', '2025-01-15T12:01:30Z', 'Wed, 15 Jan 2025 25:00:00 GMT']) {
      assert.equal(parseRetryAfter(value, now), undefined, String(value));
    }
  });
});

describe('effectiveRetryPolicy', () => {
  const defaults = { maxAttempts: 5, retryBaseMs: 2000, retryMaxDelayMs: 86_400_000, timeoutMs: 30_000 };

  it('is the settings when the subscription has no policy', () => {
    assert.deepEqual(effectiveRetryPolicy({}, defaults), { maxAttempts: 5, baseMs: 2000, maxDelayMs: 86_400_000, timeoutMs: 30_000 });
    assert.deepEqual(effectiveRetryPolicy({ retryPolicy: null, timeoutMs: null }, defaults), { maxAttempts: 5, baseMs: 2000, maxDelayMs: 86_400_000, timeoutMs: 30_000 });
  });

  it('takes each field the subscription sets and the settings for the rest', () => {
    assert.deepEqual(effectiveRetryPolicy({ retryPolicy: { maxAttempts: 2, scheduleMs: [100, 200] }, timeoutMs: 5000 }, defaults), {
      maxAttempts: 2,
      baseMs: 2000,
      maxDelayMs: 86_400_000,
      scheduleMs: [100, 200],
      timeoutMs: 5000,
    });
    assert.deepEqual(effectiveRetryPolicy({ retryPolicy: { baseMs: 250, maxDelayMs: 1000 } }, defaults), { maxAttempts: 5, baseMs: 250, maxDelayMs: 1000, timeoutMs: 30_000 });
  });
});
