import assert from 'node:assert/strict';
import { rateLimiterConformance, requireEngine, uniqueId } from '@triggers/testkit';
import { createRedisRateLimiter } from './rate-limiter.ts';
import { REDIS_TEST_ENGINE, temporaryKeyspace } from './testing.ts';

describe('Redis rate limiter', function () {
  const redis = requireEngine(REDIS_TEST_ENGINE);
  const keyspace = temporaryKeyspace(() => redis.address, 'rate');
  after(() => keyspace.closeAll());

  // The server's clock (TIME) is the one every process shares: the suite sleeps instead of moving a clock.
  rateLimiterConformance(async () => createRedisRateLimiter(await keyspace.connect(), { keyPrefix: keyspace.keyPrefix }), { injectableClock: false });

  it('admits exactly the capacity when many connections take tokens from one bucket at once', async function () {
    const limiters = await Promise.all(Array.from({ length: 8 }, async () => createRedisRateLimiter(await keyspace.connect(), { keyPrefix: keyspace.keyPrefix })));
    const customerId = uniqueId();
    const rate = 20;
    const started = Date.now();
    const decisions = await Promise.all(Array.from({ length: 400 }, (_, i) => limiters[i % limiters.length].consume(customerId, 1, rate)));
    const elapsedMs = Date.now() - started;
    const admitted = decisions.filter((d) => d.allowed).length;
    // A full bucket, plus what refilled while the burst ran; never a token more.
    assert.ok(admitted >= rate, `admitted ${admitted}`);
    assert.ok(admitted <= rate + Math.ceil((elapsedMs * rate) / 1000), `admitted ${admitted} in ${elapsedMs} ms`);
  });

  it('keeps its bucket under the key prefix, in the customer\'s hash slot, and lets it expire', async function () {
    const client = await keyspace.connect();
    const limiter = createRedisRateLimiter(client, { keyPrefix: keyspace.keyPrefix });
    const customerId = uniqueId();
    await limiter.consume(customerId, 5, 10);
    const key = `${keyspace.keyPrefix}rate:{${customerId}}`;
    const ttl = await client.pttl(key);
    assert.ok(ttl > 0 && ttl <= 1500 + 100, `expires once full again (pttl ${ttl})`);
  });
});
