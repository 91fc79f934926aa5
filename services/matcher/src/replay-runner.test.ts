import assert from 'node:assert/strict';
import fs from 'node:fs';
import { loadConfig, createServiceContext, type ServiceContext } from '@triggers/core/runtime';
import { makeTempDataDir } from '@triggers/core/testing';
import { JsonText, type NewEvent } from '@triggers/core/domain';
import { uniqueId, uuidv7At, sleep } from '@triggers/testkit';
import { startReplayRunner } from './replay-runner.ts';

/** The lease a killed runner's job waits out; a stopped runner's must not. */
const LEASE_MS = 30_000;

describe('bulk replay runner: a graceful stop releases the job (real SQLite backends)', () => {
  let dataDir: string;
  let ctx: ServiceContext;
  before(async () => {
    dataDir = makeTempDataDir();
    ctx = await createServiceContext(loadConfig({ TRIGGERS_DATA_DIR: dataDir, TRIGGERS_LOG_LEVEL: 'silent', TRIGGERS_SQLITE_SYNCHRONOUS: 'normal' }), { service: 'replay-runner-test' });
  });
  after(async () => {
    await ctx?.backends.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const runner = () =>
    startReplayRunner({ replayStore: ctx.backends.replayStore, eventStore: ctx.backends.eventStore, queue: ctx.backends.queue, clock: ctx.clock, log: ctx.log, eventsPerSecond: 4, pollMs: 50, leaseMs: LEASE_MS });

  async function waitForCounts(customerId: string, replayId: string, done: (matched: number) => boolean, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const matched = (await ctx.backends.replayStore.getReplay(customerId, replayId))!.counts.matched;
      if (done(matched)) return matched;
      if (Date.now() > deadline) assert.fail(`replay matched ${matched} after ${timeoutMs} ms`);
      await sleep(20);
    }
  }

  it('after stop() (SIGTERM), the next runner takes the job on at once from the saved cursor, not after the 30 s lease', async function () {
    this.timeout(20_000);
    const customerId = uniqueId();
    const t0 = Date.now() - 60_000;
    const events: NewEvent[] = Array.from({ length: 12 }, (_, n) => ({ eventId: uuidv7At(t0 + n), customerId, payload: JsonText.of({ event_type: 'replay.runner', n }), eventType: 'replay.runner', timestamp: t0 + n }));
    await ctx.backends.eventStore.insertEvents(events);
    const replayId = uniqueId();
    await ctx.backends.replayStore.createReplay({ replayId, customerId, filter: { startTime: t0, endTime: t0 + 100 }, idempotencyKey: null, requestHash: null, createdAt: Date.now() });

    const first = runner();
    const before = await waitForCounts(customerId, replayId, (m) => m >= 4, 5000); // 4 a second: one page, then a paced wait
    await first.stop();
    const stoppedAt = Date.now();
    const saved = (await ctx.backends.replayStore.getReplay(customerId, replayId))!;
    assert.equal(saved.status, 'running');
    assert.ok(saved.counts.matched < 12, `stopped part-way (${saved.counts.matched} of 12, ${before} when stop was called)`);

    const second = runner();
    try {
      await waitForCounts(customerId, replayId, (m) => m > saved.counts.matched, 5000);
      assert.ok(Date.now() - stoppedAt < 5000, `resumed ${Date.now() - stoppedAt} ms after the stop (the lease is ${LEASE_MS} ms)`);
      await waitForCounts(customerId, replayId, (m) => m === 12, 10_000);
      const done = (await ctx.backends.replayStore.getReplay(customerId, replayId))!;
      assert.equal(done.status, 'completed');
      assert.deepEqual({ matched: done.counts.matched, enqueued: done.counts.enqueued }, { matched: 12, enqueued: 12 }, 'each event once: the second runner went on from the saved cursor');
    } finally {
      await second.stop();
    }
  });
});
