import assert from 'node:assert/strict';
import { WorkQueue } from './work-queue.ts';
import { ManualScheduler, flushPromises } from './scheduler.testing.ts';
import { backoffDelay } from './scheduler.ts';

describe('WorkQueue', () => {
  let scheduler: ManualScheduler;
  let queue: WorkQueue;
  beforeEach(() => {
    scheduler = new ManualScheduler();
    queue = new WorkQueue({ scheduler, baseDelayMs: 100, maxDelayMs: 1000 });
  });

  it('hands out keys in order and a key queued twice only once', async () => {
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/a');
    assert.equal(queue.length, 2);
    assert.equal(await queue.get(), 'ns/a');
    assert.equal(await queue.get(), 'ns/b');
    assert.equal(queue.length, 0);
  });

  it('never hands one key to two workers: a key added while processing comes back after done', async () => {
    queue.add('ns/a');
    const key = await queue.get();
    queue.add('ns/a');
    queue.add('ns/a');
    assert.equal(queue.length, 0, 'not ready while it is being processed');
    let second: string | undefined;
    void queue.get().then((k) => (second = k));
    await flushPromises();
    assert.equal(second, undefined);
    queue.done(key!);
    await flushPromises();
    assert.equal(second, 'ns/a', 'processed once more, not twice more');
    queue.done('ns/a');
    assert.equal(queue.length, 0);
  });

  it('wakes a waiting worker when a key arrives', async () => {
    const next = queue.get();
    queue.add('ns/a');
    assert.equal(await next, 'ns/a');
  });

  it('backs off per key exponentially up to the cap, and forget resets it', async () => {
    assert.deepEqual([1, 2, 3, 4, 5].map(() => queue.addRateLimited('ns/a')), [100, 200, 400, 800, 1000]);
    assert.equal(queue.addRateLimited('ns/b'), 100, 'other keys have their own count');
    queue.forget('ns/a');
    assert.equal(queue.failuresOf('ns/a'), 0);
    assert.equal(queue.addRateLimited('ns/a'), 100);
  });

  it('brings a rate-limited key back only after its delay', async () => {
    queue.addRateLimited('ns/a');
    queue.addRateLimited('ns/a'); // 200 ms; the earlier 100 ms timer wins
    assert.equal(queue.length, 0);
    await scheduler.advance(99);
    assert.equal(queue.length, 0);
    await scheduler.advance(1);
    assert.equal(queue.length, 1);
    assert.equal(queue.delayedCount, 0);
  });

  it('keeps the earliest of several addAfter calls', async () => {
    queue.addAfter('ns/a', 500);
    queue.addAfter('ns/a', 50);
    queue.addAfter('ns/a', 800);
    await scheduler.advance(50);
    assert.equal(queue.length, 1);
    await scheduler.advance(1000);
    assert.equal(queue.length, 1, 'the cancelled timers do not add it again');
  });

  it('on shutdown releases waiting workers and drops delayed keys', async () => {
    const waiting = queue.get();
    queue.addAfter('ns/a', 100);
    queue.shutDown();
    assert.equal(await waiting, undefined);
    assert.equal(scheduler.pending, 0);
    queue.add('ns/b');
    assert.equal(await queue.get(), undefined);
  });
});

describe('backoffDelay', () => {
  it('doubles from the base, caps, and spreads by the jitter fraction', () => {
    assert.deepEqual([1, 2, 3, 10, 100].map((n) => backoffDelay(n, { baseMs: 200, maxMs: 30_000 })), [200, 400, 800, 30_000, 30_000]);
    assert.equal(backoffDelay(1, { baseMs: 1000, maxMs: 10_000, jitter: 0.2, random: () => 0 }), 800);
    assert.equal(backoffDelay(1, { baseMs: 1000, maxMs: 10_000, jitter: 0.2, random: () => 1 }), 1200);
    assert.equal(backoffDelay(10, { baseMs: 1000, maxMs: 10_000, jitter: 0.2, random: () => 1 }), 10_000, 'never above the cap');
  });
});
