import assert from 'node:assert/strict';
import type { IdempotencyClaim, IdempotencyStore, StoredResponse } from '@triggers/core/ports';
import { sleep, uniqueId } from './helpers.ts';

export interface IdempotencySuiteCapabilities {
  /** The time step for leases and ttls in these tests (Redis PX: 1 ms is fine; default 100 ms). */
  timeUnitMs?: number;
}

const LONG = { leaseMs: 60_000, ttlMs: 86_400_000 };

function response(): StoredResponse {
  return { status: 202, body: { event_id: uniqueId(), status: 'accepted', nested: { n: [1, 2] } } };
}

/**
 * The IdempotencyStore contract (ports/idempotency-store.ts). `makeStore` is called once; every
 * test uses its own customers and keys.
 */
export function idempotencyStoreConformance(makeStore: () => Promise<IdempotencyStore>, capabilities: IdempotencySuiteCapabilities = {}): void {
  const unit = capabilities.timeUnitMs ?? 100;

  describe('IdempotencyStore conformance', function () {
    let store: IdempotencyStore;

    before(async function () {
      store = await makeStore();
    });

    after(async function () {
      await store?.close();
    });

    it('gives exactly one of many concurrent claims the key; the others see in_progress', async function () {
      const customerId = uniqueId();
      const claims = await Promise.all(Array.from({ length: 25 }, () => store.claim(customerId, 'key-1', 'hash-a', LONG)));
      assert.equal(claims.filter((c) => c.state === 'acquired').length, 1);
      assert.equal(claims.filter((c) => c.state === 'in_progress').length, 24);
    });

    it('answers mismatch to a concurrent claim with another request hash', async function () {
      const customerId = uniqueId();
      const claims = await Promise.all([
        ...Array.from({ length: 10 }, () => store.claim(customerId, 'key', 'hash-a', LONG)),
        ...Array.from({ length: 10 }, () => store.claim(customerId, 'key', 'hash-b', LONG)),
      ]);
      const acquired = claims.findIndex((c) => c.state === 'acquired');
      assert.ok(acquired >= 0);
      assert.equal(claims.filter((c) => c.state === 'acquired').length, 1);
      const winnerHash = acquired < 10 ? 'hash-a' : 'hash-b';
      claims.forEach((claim, i) => {
        if (i === acquired) return;
        const hash = i < 10 ? 'hash-a' : 'hash-b';
        assert.equal(claim.state, hash === winnerHash ? 'in_progress' : 'mismatch', `claim ${i}`);
      });
    });

    it('replays the stored response to a repeat with the same hash after complete, and refuses another hash', async function () {
      const customerId = uniqueId();
      const stored = response();
      assert.deepEqual(await store.claim(customerId, 'k', 'hash-a', LONG), { state: 'acquired' });
      await store.complete(customerId, 'k', stored, LONG.ttlMs);
      assert.deepEqual(await store.claim(customerId, 'k', 'hash-a', LONG), { state: 'completed', response: stored } satisfies IdempotencyClaim);
      assert.deepEqual(await store.claim(customerId, 'k', 'hash-a', LONG), { state: 'completed', response: stored }, 'again and again');
      assert.deepEqual(await store.claim(customerId, 'k', 'hash-b', LONG), { state: 'mismatch' });
    });

    it('lets a new claim take over a key whose holder neither completed nor released it within the lease', async function () {
      const customerId = uniqueId();
      const lease = { leaseMs: unit, ttlMs: 86_400_000 };
      assert.equal((await store.claim(customerId, 'k', 'hash-a', lease)).state, 'acquired');
      assert.equal((await store.claim(customerId, 'k', 'hash-a', lease)).state, 'in_progress');
      await sleep(unit * 2);
      assert.equal((await store.claim(customerId, 'k', 'hash-a', lease)).state, 'acquired', 'the lease expired');
      assert.equal((await store.claim(customerId, 'k', 'hash-a', lease)).state, 'in_progress', 'and the new holder has it now');
    });

    it('does not expire a completed key with its lease', async function () {
      const customerId = uniqueId();
      const stored = response();
      await store.claim(customerId, 'k', 'hash-a', { leaseMs: unit, ttlMs: 86_400_000 });
      await store.complete(customerId, 'k', stored, 86_400_000);
      await sleep(unit * 2);
      assert.deepEqual(await store.claim(customerId, 'k', 'hash-a', LONG), { state: 'completed', response: stored });
    });

    it('release forgets an in-progress claim so the client may retry, even with another body', async function () {
      const customerId = uniqueId();
      assert.equal((await store.claim(customerId, 'k', 'hash-a', LONG)).state, 'acquired');
      await store.release(customerId, 'k');
      assert.equal((await store.claim(customerId, 'k', 'hash-b', LONG)).state, 'acquired');
      await store.release(customerId, 'never-claimed');
    });

    it('release does not forget a completed key', async function () {
      const customerId = uniqueId();
      const stored = response();
      await store.claim(customerId, 'k', 'hash-a', LONG);
      await store.complete(customerId, 'k', stored, LONG.ttlMs);
      await store.release(customerId, 'k');
      assert.deepEqual(await store.claim(customerId, 'k', 'hash-a', LONG), { state: 'completed', response: stored });
    });

    it('forgets a completed key after its ttl', async function () {
      const customerId = uniqueId();
      await store.claim(customerId, 'k', 'hash-a', LONG);
      await store.complete(customerId, 'k', response(), unit);
      await sleep(unit * 2);
      assert.deepEqual(await store.claim(customerId, 'k', 'hash-b', LONG), { state: 'acquired' });
    });

    it('keeps keys of different customers apart', async function () {
      const a = uniqueId();
      const b = uniqueId();
      const stored = response();
      assert.equal((await store.claim(a, 'shared-key', 'hash-a', LONG)).state, 'acquired');
      assert.equal((await store.claim(b, 'shared-key', 'hash-b', LONG)).state, 'acquired');
      await store.complete(a, 'shared-key', stored, LONG.ttlMs);
      assert.equal((await store.claim(b, 'shared-key', 'hash-b', LONG)).state, 'in_progress');
      await store.release(b, 'shared-key');
      assert.deepEqual(await store.claim(a, 'shared-key', 'hash-a', LONG), { state: 'completed', response: stored });
    });

    it('keeps different keys of one customer apart', async function () {
      const customerId = uniqueId();
      assert.equal((await store.claim(customerId, 'one', 'hash', LONG)).state, 'acquired');
      assert.equal((await store.claim(customerId, 'two', 'hash', LONG)).state, 'acquired');
    });

    it('answers ping', async function () {
      await store.ping();
    });
  });
}
