import type { IdempotencyClaim, IdempotencyStore, StoredResponse } from '../../ports/idempotency-store.ts';
import { customerKey, LuaScript, type RedisClient } from './client.ts';
import { withRedis } from './errors.ts';

/**
 * One hash per (customer, key): {state, hash, response}. An in-progress claim lives for its lease
 * (PX), so a crashed holder's claim simply disappears; a completed one lives for its ttl. Each
 * operation is one script, so concurrent claims from any number of processes serialise on the server.
 */
const CLAIM = new LuaScript(`
local current = redis.call('HMGET', KEYS[1], 'state', 'hash', 'response')
if not current[1] then
  redis.call('HSET', KEYS[1], 'state', 'in_progress', 'hash', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return { 'acquired' }
end
if current[2] ~= ARGV[1] then return { 'mismatch' } end
if current[1] == 'in_progress' then return { 'in_progress' } end
return { 'completed', current[3] }
`);

// A completion without an earlier claim stores an empty hash: no request matches it, so a repeat
// is refused as a mismatch rather than answered with a response meant for another body.
const COMPLETE = new LuaScript(`
local hash = redis.call('HGET', KEYS[1], 'hash') or ''
redis.call('HSET', KEYS[1], 'state', 'completed', 'hash', hash, 'response', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`);

const RELEASE = new LuaScript(`
if redis.call('HGET', KEYS[1], 'state') == 'in_progress' then return redis.call('DEL', KEYS[1]) end
return 0
`);

export interface RedisIdempotencyStoreOptions {
  /** Prefix of every key. Default `triggers:`. */
  keyPrefix?: string;
}

/** PX takes a whole number of milliseconds above zero. */
function px(ms: number): number {
  return Math.max(1, Math.ceil(ms));
}

export class RedisIdempotencyStore implements IdempotencyStore {
  readonly kind = 'redis';
  private readonly keyPrefix: string;

  constructor(private readonly client: RedisClient, options: RedisIdempotencyStoreOptions = {}) {
    this.keyPrefix = options.keyPrefix ?? 'triggers:';
  }

  async claim(customerId: string, key: string, requestHash: string, options: { leaseMs: number; ttlMs: number }): Promise<IdempotencyClaim> {
    const reply = (await withRedis('claiming an idempotency key', () =>
      CLAIM.run(this.client, [this.keyOf(customerId, key)], [requestHash, px(options.leaseMs)]),
    )) as [string, string?];
    switch (reply[0]) {
      case 'acquired':
        return { state: 'acquired' };
      case 'in_progress':
        return { state: 'in_progress' };
      case 'mismatch':
        return { state: 'mismatch' };
      default:
        return { state: 'completed', response: JSON.parse(reply[1] ?? 'null') as StoredResponse };
    }
  }

  async complete(customerId: string, key: string, response: StoredResponse, ttlMs: number): Promise<void> {
    await withRedis('completing an idempotency key', () =>
      COMPLETE.run(this.client, [this.keyOf(customerId, key)], [JSON.stringify(response), px(ttlMs)]),
    );
  }

  async release(customerId: string, key: string): Promise<void> {
    await withRedis('releasing an idempotency key', () => RELEASE.run(this.client, [this.keyOf(customerId, key)], []));
  }

  async ping(): Promise<void> {
    await withRedis('ping', () => this.client.ping());
  }

  /** The connection is shared; whoever opened it closes it. */
  async close(): Promise<void> {}

  private keyOf(customerId: string, key: string): string {
    return customerKey(this.keyPrefix, 'idem', customerId, key);
  }
}

export function createRedisIdempotencyStore(client: RedisClient, options: RedisIdempotencyStoreOptions = {}): RedisIdempotencyStore {
  return new RedisIdempotencyStore(client, options);
}
