import type { Logger } from '../../log.ts';
import type { RateLimiter } from '../../ports/rate-limiter.ts';
import type { IdempotencyStore } from '../../ports/idempotency-store.ts';
import { connectRedis, type RedisClient } from './client.ts';
import { withRedis } from './errors.ts';
import { RedisIdempotencyStore } from './idempotency-store.ts';
import { RedisRateLimiter } from './rate-limiter.ts';

export { connectRedis, LuaScript, customerKey, type RedisClient, type RedisClientOptions } from './client.ts';
export { RedisRateLimiter, createRedisRateLimiter, type RedisRateLimiterOptions } from './rate-limiter.ts';
export { RedisIdempotencyStore, createRedisIdempotencyStore, type RedisIdempotencyStoreOptions } from './idempotency-store.ts';
export { toRedisDependencyError } from './errors.ts';

export interface RedisBackendsOptions {
  url: string;
  log?: Logger;
  /** Prefix of every key. Default `triggers:`. */
  keyPrefix?: string;
}

export interface RedisBackends {
  client: RedisClient;
  rateLimiter: RateLimiter;
  idempotencyStore: IdempotencyStore;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The rate limiter and idempotency store on one Redis connection (commands pipeline over it). */
export async function openRedisBackends(options: RedisBackendsOptions): Promise<RedisBackends> {
  const client = await connectRedis({ url: options.url, log: options.log });
  let closed = false;
  return {
    client,
    rateLimiter: new RedisRateLimiter(client, { keyPrefix: options.keyPrefix }),
    idempotencyStore: new RedisIdempotencyStore(client, { keyPrefix: options.keyPrefix }),
    async ping() {
      await withRedis('ping', () => client.ping());
    },
    async close() {
      if (closed) return;
      closed = true;
      // QUIT waits for replies in flight; a dead connection just disconnects.
      await client.quit().catch(() => client.disconnect());
    },
  };
}
