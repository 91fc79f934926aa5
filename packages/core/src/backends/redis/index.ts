import type { RateLimiter } from '../../ports/rate-limiter.ts';
import type { IdempotencyStore } from '../../ports/idempotency-store.ts';

export interface RedisBackendsOptions {
  url: string;
}

export interface RedisBackends {
  rateLimiter: RateLimiter;
  idempotencyStore: IdempotencyStore;
  ping(): Promise<void>;
  close(): Promise<void>;
}

// PLACEHOLDER (issue 4, in progress): replaced by the ioredis adapters.
export async function openRedisBackends(_options: RedisBackendsOptions): Promise<RedisBackends> {
  throw new Error('The Redis backend is not built yet');
}
