import { systemClock, type Clock } from '../../clock.ts';
import type { RateLimitDecision, RateLimiter } from '../../ports/rate-limiter.ts';

interface Bucket {
  tokens: number;
  updatedAt: number;
  /** When the bucket is full again if untouched; past buckets can be forgotten (a new one starts full). */
  fullAt: number;
}

export interface MemoryRateLimiterOptions {
  clock?: Clock;
  /** Forget idle, refilled buckets once this many exist. Default 10,000. */
  sweepAbove?: number;
}

/**
 * Token buckets in this process's memory: capacity = `ratePerSecond`, refilled continuously.
 * One replica's view only — the distributed deployment uses the Redis limiter.
 */
export class MemoryRateLimiter implements RateLimiter {
  readonly kind = 'memory';
  private readonly clock: Clock;
  private readonly sweepAbove: number;
  private readonly buckets = new Map<string, Bucket>();

  constructor(options: MemoryRateLimiterOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.sweepAbove = options.sweepAbove ?? 10_000;
  }

  async consume(customerId: string, cost: number, ratePerSecond: number): Promise<RateLimitDecision> {
    const now = this.clock.now();
    const capacity = Math.max(0, ratePerSecond);
    if (capacity === 0) {
      // A rate of zero admits nothing; say "try again in a second" rather than divide by zero.
      return { allowed: false, limit: 0, remaining: 0, resetSeconds: 0, retryAfterSeconds: 1 };
    }
    const perMs = capacity / 1000;
    const bucket = this.buckets.get(customerId);
    // Refill since the last call; a lowered rate clamps the bucket to its new capacity at once.
    let tokens = bucket ? Math.min(capacity, bucket.tokens + Math.max(0, now - bucket.updatedAt) * perMs) : capacity;
    const wanted = Math.max(0, cost);
    const allowed = wanted <= tokens;
    if (allowed) tokens -= wanted;
    const fullAt = now + (capacity - tokens) / perMs;
    this.buckets.set(customerId, { tokens, updatedAt: now, fullAt });
    if (this.buckets.size > this.sweepAbove) this.forgetFullBuckets(now);
    return {
      allowed,
      limit: capacity,
      remaining: Math.floor(tokens),
      resetSeconds: Math.ceil((capacity - tokens) / capacity),
      // Also for a cost above the capacity (never admissible): the time `cost` tokens take to accrue.
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((wanted - tokens) / capacity)),
    };
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.buckets.clear();
  }

  private forgetFullBuckets(now: number): void {
    for (const [customerId, bucket] of this.buckets) {
      if (bucket.fullAt <= now) this.buckets.delete(customerId);
    }
  }
}

export function createMemoryRateLimiter(options: MemoryRateLimiterOptions = {}): MemoryRateLimiter {
  return new MemoryRateLimiter(options);
}
