import type { EventStatus } from '@triggers/core/domain';

/** The live chart's numbers: events per time bucket, split by outcome. Pure, for a given `now`. */

export interface StatsBucket {
  /** RFC 3339 start of the bucket. */
  start: string;
  total: number;
  delivered: number;
  pending: number;
  failed: number;
  unmatched: number;
}

export interface EventStats {
  window_seconds: number;
  bucket_seconds: number;
  /** Oldest first; the last one is the bucket containing `now`. */
  buckets: StatsBucket[];
  totals: Omit<StatsBucket, 'start'>;
  /** Events per second over the last 10 s (or the whole window when shorter), excluding the current, partial bucket. */
  rate_per_second: number;
}

export function bucketEvents(
  events: readonly { timestamp: number; status: EventStatus }[],
  options: { now: number; windowMs: number; bucketMs: number },
): EventStats {
  const { now, windowMs, bucketMs } = options;
  const count = Math.max(1, Math.ceil(windowMs / bucketMs));
  const end = (Math.floor(now / bucketMs) + 1) * bucketMs;
  const start = end - count * bucketMs;
  const buckets: StatsBucket[] = Array.from({ length: count }, (_, i) => ({
    start: new Date(start + i * bucketMs).toISOString(),
    total: 0,
    delivered: 0,
    pending: 0,
    failed: 0,
    unmatched: 0,
  }));
  const totals = { total: 0, delivered: 0, pending: 0, failed: 0, unmatched: 0 };
  for (const event of events) {
    if (event.timestamp < start || event.timestamp >= end) continue;
    const bucket = buckets[Math.floor((event.timestamp - start) / bucketMs)];
    bucket.total++;
    bucket[event.status]++;
    totals.total++;
    totals[event.status]++;
  }
  // The rate leaves out the bucket still filling, so it does not dip at every bucket boundary.
  const rateBuckets = Math.min(count - 1, Math.max(1, Math.round(10_000 / bucketMs)));
  const complete = buckets.slice(count - 1 - rateBuckets, count - 1);
  const rate = rateBuckets > 0 ? complete.reduce((sum, b) => sum + b.total, 0) / ((rateBuckets * bucketMs) / 1000) : 0;
  return {
    window_seconds: Math.round((count * bucketMs) / 1000),
    bucket_seconds: bucketMs / 1000,
    buckets,
    totals,
    rate_per_second: Math.round(rate * 100) / 100,
  };
}
