import assert from 'node:assert/strict';
import { idempotencyStoreConformance, requireEngine, uniqueId } from '@triggers/testkit';
import { DependencyError } from '../../errors.ts';
import { createRedisIdempotencyStore } from './idempotency-store.ts';
import { openRedisBackends } from './index.ts';
import { REDIS_TEST_ENGINE, temporaryKeyspace } from './testing.ts';

describe('Redis idempotency store', function () {
  describe('on a running server', function () {
    const redis = requireEngine(REDIS_TEST_ENGINE);
    const keyspace = temporaryKeyspace(() => redis.address, 'idem');
    after(() => keyspace.closeAll());

    idempotencyStoreConformance(async () => createRedisIdempotencyStore(await keyspace.connect(), { keyPrefix: keyspace.keyPrefix }), { timeUnitMs: 50 });

    it('gives exactly one of many connections the key when they claim it at once', async function () {
      const stores = await Promise.all(Array.from({ length: 8 }, async () => createRedisIdempotencyStore(await keyspace.connect(), { keyPrefix: keyspace.keyPrefix })));
      const customerId = uniqueId();
      const claims = await Promise.all(Array.from({ length: 80 }, (_, i) => stores[i % stores.length].claim(customerId, 'order-1', 'hash', { leaseMs: 60_000, ttlMs: 60_000 })));
      assert.equal(claims.filter((c) => c.state === 'acquired').length, 1);
      assert.equal(claims.filter((c) => c.state === 'in_progress').length, 79);
    });

    it('keeps a claim for its lease and a completed key for its ttl, under the customer\'s key', async function () {
      const client = await keyspace.connect();
      const store = createRedisIdempotencyStore(client, { keyPrefix: keyspace.keyPrefix });
      const customerId = uniqueId();
      const key = `${keyspace.keyPrefix}idem:{${customerId}}:k`;
      await store.claim(customerId, 'k', 'h', { leaseMs: 30_000, ttlMs: 86_400_000 });
      const leased = await client.pttl(key);
      assert.ok(leased > 29_000 && leased <= 30_000, `lease pttl ${leased}`);
      await store.complete(customerId, 'k', { status: 202, body: {} }, 86_400_000);
      const kept = await client.pttl(key);
      assert.ok(kept > 86_000_000, `ttl pttl ${kept}`);
    });

    it('opens both Redis backends on one connection, answers ping, and closes', async function () {
      const backends = await openRedisBackends({ url: redis.address, keyPrefix: keyspace.keyPrefix });
      await backends.ping();
      assert.equal((await backends.rateLimiter.consume(uniqueId(), 1, 5)).remaining, 4);
      await backends.close();
      await backends.close();
      await assert.rejects(backends.idempotencyStore.claim(uniqueId(), 'k', 'h', { leaseMs: 1000, ttlMs: 1000 }), (error: unknown) => {
        assert.ok(error instanceof DependencyError, String(error));
        assert.equal(error.backend, 'redis');
        return true;
      });
    });
  });

  it('fails with a retryable DependencyError when nothing listens at the address', async function () {
    await assert.rejects(openRedisBackends({ url: 'redis://127.0.0.1:1' }), (error: unknown) => {
      assert.ok(error instanceof DependencyError, String(error));
      assert.equal(error.backend, 'redis');
      assert.equal(error.retryable, true);
      return true;
    });
  });
});
