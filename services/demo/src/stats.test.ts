import assert from 'node:assert/strict';
import { bucketEvents } from './stats.ts';

describe('Demo stats', () => {
  const now = Date.parse('2026-01-15T10:30:09.500Z');

  it('splits the window into buckets aligned to the bucket size, the last one holding now', () => {
    const stats = bucketEvents([], { now, windowMs: 60_000, bucketMs: 2000 });
    assert.equal(stats.buckets.length, 30);
    assert.equal(stats.buckets.at(-1)!.start, '2026-01-15T10:30:08.000Z');
    assert.equal(stats.buckets[0].start, '2026-01-15T10:29:10.000Z');
    assert.equal(stats.window_seconds, 60);
    assert.equal(stats.bucket_seconds, 2);
    assert.deepEqual(stats.totals, { total: 0, delivered: 0, pending: 0, failed: 0, unmatched: 0 });
    assert.equal(stats.rate_per_second, 0);
  });

  it('counts events by bucket and outcome and ignores events outside the window', () => {
    const at = (iso: string) => Date.parse(iso);
    const stats = bucketEvents(
      [
        { timestamp: at('2026-01-15T10:30:09.000Z'), status: 'delivered' },
        { timestamp: at('2026-01-15T10:30:08.000Z'), status: 'pending' },
        { timestamp: at('2026-01-15T10:30:07.999Z'), status: 'failed' },
        { timestamp: at('2026-01-15T10:30:06.000Z'), status: 'unmatched' },
        { timestamp: at('2026-01-15T10:29:09.999Z'), status: 'delivered' }, // before the window
        { timestamp: at('2026-01-15T10:30:10.000Z'), status: 'delivered' }, // after it
      ],
      { now, windowMs: 60_000, bucketMs: 2000 },
    );
    assert.deepEqual(stats.buckets.at(-1), { start: '2026-01-15T10:30:08.000Z', total: 2, delivered: 1, pending: 1, failed: 0, unmatched: 0 });
    assert.deepEqual(stats.buckets.at(-2), { start: '2026-01-15T10:30:06.000Z', total: 2, delivered: 0, pending: 0, failed: 1, unmatched: 1 });
    assert.deepEqual(stats.totals, { total: 4, delivered: 1, pending: 1, failed: 1, unmatched: 1 });
  });

  it('reports the rate over the last complete 10 s', () => {
    const events = Array.from({ length: 50 }, (_, i) => ({ timestamp: now - 10_000 + i * 100, status: 'delivered' as const }));
    const stats = bucketEvents(events, { now, windowMs: 60_000, bucketMs: 1000 });
    // The complete buckets 10:29:59–10:30:08 hold all 50 (10:29:59.500 to 10:30:04.400); 10:30:09 is still filling.
    assert.equal(stats.rate_per_second, 5);
    const withCurrent = bucketEvents([...events, { timestamp: now, status: 'pending' }], { now, windowMs: 60_000, bucketMs: 1000 });
    assert.equal(withCurrent.rate_per_second, 5);
  });
});
