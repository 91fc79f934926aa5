import type { RateLimitDecision, RateLimiter } from '../../ports/rate-limiter.ts';
import { customerKey, LuaScript, type RedisClient } from './client.ts';
import { withRedis } from './errors.ts';

/**
 * One token bucket per customer in a Redis hash {tokens, at}. Refill, take and store happen inside
 * one script, so concurrent calls from any number of processes serialise on the server. Time is
 * the server's (TIME), the one clock every process shares. The key expires once the bucket would
 * be full again: an absent bucket is a full one.
 */
const TAKE_TOKENS = new LuaScript(`
if redis.replicate_commands then redis.replicate_commands() end
local capacity = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = capacity
else
  tokens = math.min(capacity, tokens + math.max(0, now - at) * capacity / 1000)
end
local allowed = 0
if cost <= tokens then
  tokens = tokens - cost
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.17g', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) * 1000 / capacity) + 1000)
return { allowed, string.format('%.17g', tokens) }
`);

export interface RedisRateLimiterOptions {
  /** Prefix of every key. Default `triggers:`. */
  keyPrefix?: string;
}

export class RedisRateLimiter implements RateLimiter {
  readonly kind = 'redis';
  private readonly keyPrefix: string;

  constructor(private readonly client: RedisClient, options: RedisRateLimiterOptions = {}) {
    this.keyPrefix = options.keyPrefix ?? 'triggers:';
  }

  async consume(customerId: string, cost: number, ratePerSecond: number): Promise<RateLimitDecision> {
    const capacity = Math.max(0, ratePerSecond);
    if (capacity === 0) {
      // A rate of zero admits nothing; say "try again in a second" rather than divide by zero.
      return { allowed: false, limit: 0, remaining: 0, resetSeconds: 0, retryAfterSeconds: 1 };
    }
    const wanted = Math.max(0, cost);
    const reply = (await withRedis('taking rate-limit tokens', () =>
      TAKE_TOKENS.run(this.client, [customerKey(this.keyPrefix, 'rate', customerId)], [capacity, wanted]),
    )) as [number, string];
    const allowed = Number(reply[0]) === 1;
    const tokens = Math.max(0, Number(reply[1]));
    return {
      allowed,
      limit: capacity,
      remaining: Math.floor(tokens),
      resetSeconds: Math.ceil((capacity - tokens) / capacity),
      // Also for a cost above the capacity (never admissible): the time `cost` tokens take to accrue.
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((wanted - tokens) / capacity)),
    };
  }

  async ping(): Promise<void> {
    await withRedis('ping', () => this.client.ping());
  }

  /** The connection is shared; whoever opened it closes it. */
  async close(): Promise<void> {}
}

export function createRedisRateLimiter(client: RedisClient, options: RedisRateLimiterOptions = {}): RedisRateLimiter {
  return new RedisRateLimiter(client, options);
}
