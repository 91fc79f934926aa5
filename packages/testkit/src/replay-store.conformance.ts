import assert from 'node:assert/strict';
import { replaySettled, type NewReplay, type ReplayCounts, type ReplayStore } from '@triggers/core/ports';
import { uniqueId } from './helpers.ts';

function newReplay(overrides: Partial<NewReplay> = {}): NewReplay {
  return {
    replayId: uniqueId(),
    customerId: uniqueId(),
    filter: { startTime: 1_000, endTime: 2_000, status: 'failed', eventType: 'order.created' },
    idempotencyKey: null,
    requestHash: null,
    createdAt: Date.now(),
    ...overrides,
  };
}

const ZERO: ReplayCounts = { matched: 0, enqueued: 0, processed: 0, unmatched: 0, deliveries: 0, delivered: 0, failed: 0 };

const progress = (now: number, fields: { cursor?: string | null; matched?: number; enqueued?: number; finished?: boolean } = {}) => ({
  cursor: fields.cursor ?? null,
  matched: fields.matched ?? 0,
  enqueued: fields.enqueued ?? 0,
  finished: fields.finished ?? false,
  now,
  leaseUntil: now + 30_000,
});

/**
 * The ReplayStore contract (ports/replay-store.ts). `open` is called once; the store is shared
 * by the tests (each makes its own customers), and the claim tests use times far from any other
 * test's so that they only meet their own jobs.
 */
export function replayStoreConformance(open: () => Promise<{ store: ReplayStore; close(): Promise<void> }>): void {
  describe('ReplayStore conformance', function () {
    let store: ReplayStore;
    let close: () => Promise<void>;
    before(async function () {
      ({ store, close } = await open());
    });
    after(async function () {
      await close?.();
    });

    /** Claims until it gets `replayId` (other tests' running jobs are claimed on the way, harmlessly: they are not reused). */
    async function claimOwn(replayId: string, owner: string, now: number) {
      for (let i = 0; i < 200; i++) {
        const claimed = await store.claimReplay(owner, now, 60_000);
        if (!claimed) return null;
        if (claimed.replayId === replayId) return claimed;
      }
      return null;
    }

    it('creates a running job with zero counts, read back by its customer only', async function () {
      const replay = newReplay({ filter: { startTime: 5, endTime: 9, workflowId: uniqueId() } });
      const { replay: created, created: isNew } = await store.createReplay(replay);
      assert.equal(isNew, true);
      assert.deepEqual(created, {
        ...replay,
        status: 'running',
        cursor: null,
        counts: ZERO,
        updatedAt: replay.createdAt,
        finishedAt: null,
      });
      assert.deepEqual(await store.getReplay(replay.customerId, replay.replayId), created);
      assert.equal(await store.getReplay(uniqueId(), replay.replayId), null, "another customer's job is absent");
      assert.equal(await store.getReplay(replay.customerId, uniqueId()), null);
    });

    it('returns the existing job for an idempotency key the customer used before, and keys are per customer', async function () {
      const first = newReplay({ idempotencyKey: 'replay-key-1', requestHash: 'a'.repeat(64) });
      assert.equal((await store.createReplay(first)).created, true);
      const again = await store.createReplay({ ...first, replayId: uniqueId(), requestHash: 'b'.repeat(64) });
      assert.equal(again.created, false);
      assert.equal(again.replay.replayId, first.replayId);
      assert.equal(again.replay.requestHash, 'a'.repeat(64), 'the first request\'s hash, to compare with');
      const otherCustomer = await store.createReplay(newReplay({ idempotencyKey: 'replay-key-1' }));
      assert.equal(otherCustomer.created, true);
      const twoWithoutKey = [await store.createReplay(newReplay({ customerId: first.customerId })), await store.createReplay(newReplay({ customerId: first.customerId }))];
      assert.ok(twoWithoutKey.every((r) => r.created));
    });

    it('claims a job for one owner until its lease passes; saves progress only for the owner of a running job', async function () {
      const now = Date.now() + 10 * 86_400_000;
      const replay = newReplay();
      await store.createReplay(replay);
      const claimed = await claimOwn(replay.replayId, 'runner-a', now);
      assert.equal(claimed?.replayId, replay.replayId);
      // Within the lease no one else gets it.
      for (let i = 0; i < 50; i++) {
        const other = await store.claimReplay('runner-b', now + 1000, 60_000);
        if (!other) break;
        assert.notEqual(other.replayId, replay.replayId, 'claimed twice within the lease');
      }
      assert.equal(await store.saveProgress(replay.replayId, 'runner-b', progress(now, { matched: 5 })), false, 'not the owner');
      assert.equal(await store.saveProgress(replay.replayId, 'runner-a', progress(now, { cursor: 'c1', matched: 100, enqueued: 100 })), true);
      assert.equal(await store.saveProgress(replay.replayId, 'runner-a', progress(now + 1, { cursor: 'c2', matched: 30, enqueued: 30 })), true);
      let read = await store.getReplay(replay.customerId, replay.replayId);
      assert.equal(read?.cursor, 'c2');
      assert.deepEqual(read?.counts, { ...ZERO, matched: 130, enqueued: 130 });
      assert.equal(read?.status, 'running');

      // The lease passes (the owner died): another runner takes the job on from the saved cursor.
      const later = now + 31_000 + 1;
      const taken = await claimOwn(replay.replayId, 'runner-b', later);
      assert.equal(taken?.cursor, 'c2');
      assert.equal(await store.saveProgress(replay.replayId, 'runner-a', progress(later, { matched: 1 })), false, 'the old owner lost its claim');
      assert.equal(await store.saveProgress(replay.replayId, 'runner-b', progress(later, { cursor: null, matched: 2, enqueued: 2, finished: true })), true);
      read = await store.getReplay(replay.customerId, replay.replayId);
      assert.equal(read?.status, 'completed');
      assert.equal(read?.finishedAt, later);
      assert.deepEqual(read?.counts, { ...ZERO, matched: 132, enqueued: 132 });
      assert.equal(await store.saveProgress(replay.replayId, 'runner-b', progress(later, { matched: 1 })), false, 'a completed job takes no more progress');
      assert.equal(await claimOwn(replay.replayId, 'runner-c', later + 10 * 60_000), null, 'a completed job is not claimed again');
    });

    it('cancels a running job (scoped by customer); its runner is told to stop; a finished job stays as it is', async function () {
      const now = Date.now() + 20 * 86_400_000;
      const replay = newReplay();
      await store.createReplay(replay);
      await claimOwn(replay.replayId, 'runner-a', now);
      assert.equal(await store.cancelReplay(uniqueId(), replay.replayId, now), null, "another customer's job is absent");
      assert.equal((await store.getReplay(replay.customerId, replay.replayId))?.status, 'running');
      const cancelled = await store.cancelReplay(replay.customerId, replay.replayId, now + 5);
      assert.equal(cancelled?.status, 'cancelled');
      assert.equal(cancelled?.finishedAt, now + 5);
      assert.equal(await store.saveProgress(replay.replayId, 'runner-b', progress(now + 6, { matched: 7, enqueued: 7 })), false);
      assert.equal(await store.saveProgress(replay.replayId, 'runner-a', progress(now + 6, { cursor: 'c9', matched: 1, enqueued: 1, finished: true })), false);
      assert.equal(await store.saveProgress(replay.replayId, 'runner-a', progress(now + 7, { matched: 1, enqueued: 1 })), false);
      const after = await store.getReplay(replay.customerId, replay.replayId);
      assert.deepEqual(
        [after?.status, after?.cursor, after?.counts.matched, after?.counts.enqueued],
        ['cancelled', null, 1, 1],
        "the owner's page in flight at the cancel is counted, once; the job stays cancelled where it was",
      );
      assert.equal((await store.cancelReplay(replay.customerId, replay.replayId, now + 9))?.finishedAt, now + 5, 'cancelling again changes nothing');
    });

    it('releases a claim at once for its owner only: the next claimer need not wait out the lease', async function () {
      const now = 7_000_000_000_000;
      const replay = newReplay({ createdAt: now });
      await store.createReplay(replay);
      assert.ok(await claimOwn(replay.replayId, 'runner-a', now));
      await store.releaseReplay(replay.replayId, 'runner-b');
      assert.equal(await claimOwn(replay.replayId, 'runner-b', now + 1), null, "another runner's release changes nothing");
      await store.releaseReplay(replay.replayId, 'runner-a');
      const taken = await claimOwn(replay.replayId, 'runner-b', now + 1);
      assert.equal(taken?.replayId, replay.replayId, 'claimed right after the release, well inside the lease');
      assert.equal(await store.saveProgress(replay.replayId, 'runner-a', progress(now + 2, { matched: 1 })), false, 'the released owner holds nothing');
      assert.equal(await store.saveProgress(replay.replayId, 'runner-b', progress(now + 2, { matched: 1 })), true);
    });

    it('counts each delivery outcome once, however often it is recorded', async function () {
      const replay = newReplay();
      await store.createReplay(replay);
      const [a, b, c] = [uniqueId(), uniqueId(), uniqueId()];
      await store.recordOutcomes([{ replayId: replay.replayId, deliveryId: a, outcome: 'delivered' }, { replayId: replay.replayId, deliveryId: b, outcome: 'failed' }]);
      await store.recordOutcomes([{ replayId: replay.replayId, deliveryId: a, outcome: 'delivered' }, { replayId: replay.replayId, deliveryId: c, outcome: 'delivered' }]);
      await store.recordOutcomes([]);
      assert.deepEqual((await store.getReplay(replay.customerId, replay.replayId))?.counts, { ...ZERO, delivered: 2, failed: 1 });
    });

    it('counts each processed event once, with the deliveries of its first record, and says when the job has settled', async function () {
      const now = 8_000_000_000_000;
      const replay = newReplay({ createdAt: now });
      await store.createReplay(replay);
      const [e1, e2, e3] = [uniqueId(), uniqueId(), uniqueId()];
      const { replayId } = replay;
      const read = async () => (await store.getReplay(replay.customerId, replayId))!;
      assert.ok(await claimOwn(replayId, 'runner-a', now));
      assert.equal(await store.saveProgress(replayId, 'runner-a', progress(now + 1, { matched: 3, enqueued: 3, finished: true })), true);
      await store.recordProcessed([{ replayId, eventId: e1, deliveries: 2 }, { replayId, eventId: e2, deliveries: 0 }]);
      assert.equal(replaySettled(await read()), false, 'an enqueued event is not processed yet');
      await store.recordProcessed([{ replayId, eventId: e2, deliveries: 3 }, { replayId, eventId: e3, deliveries: 0 }]);
      await store.recordProcessed([]);
      assert.deepEqual((await read()).counts, { ...ZERO, matched: 3, enqueued: 3, processed: 3, unmatched: 2, deliveries: 2 }, 'e2 again changes nothing');
      assert.equal(replaySettled(await read()), false, 'two deliveries have not ended');
      await store.recordOutcomes([{ replayId, deliveryId: 'd1', outcome: 'delivered' }]);
      assert.equal(replaySettled(await read()), false);
      await store.recordOutcomes([{ replayId, deliveryId: 'd2', outcome: 'failed' }]);
      const settled = await read();
      assert.deepEqual(settled.counts, { ...ZERO, matched: 3, enqueued: 3, processed: 3, unmatched: 2, deliveries: 2, delivered: 1, failed: 1 });
      assert.equal(replaySettled(settled), true);
      assert.equal(replaySettled({ ...settled, status: 'running' }), false, 'a running job has not settled, whatever its counts');
    });
  });
}
