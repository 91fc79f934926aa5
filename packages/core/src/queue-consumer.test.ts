import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from './log.ts';
import { DependencyError } from './errors.ts';
import { startConsumer } from './queue-consumer.ts';
import { createSqliteQueue } from './backends/sqlite/queue.ts';
import { temporaryDatabases } from './backends/sqlite/testing.ts';
import type { ReadinessCheck } from './backends.ts';
import type { Queue } from './ports/queue.ts';

/**
 * The consumer and a backend outage: while the store a handler writes to is down, every message
 * would fail and spend one of its `maxReceives` per receive; the consumer pauses instead, probes
 * the backend's readiness check, and resumes when it answers.
 */
describe('queue consumer: a backend outage pauses consumption', function () {
  this.timeout(15_000);
  const databases = temporaryDatabases();
  after(() => databases.closeAll());
  const log = createLogger({ level: 'silent', service: 'test' });

  it('stops receiving while the backend is down, resumes when its check answers, and no message is dead-lettered', async () => {
    const queue = createSqliteQueue(await databases.open(), { maxReceives: 3, pollIntervalMs: 5 });
    let storeUp = true;
    let probes = 0;
    const readiness: ReadinessCheck[] = [
      {
        name: 'postgres',
        check: async () => {
          probes++;
          if (!storeUp) throw new DependencyError('postgres', 'connect ECONNREFUSED');
        },
      },
    ];
    const handled = new Set<number>();
    const receives = new Map<number, number>();
    const consumer = startConsumer<{ n: number }>({
      queue,
      topic: 'events',
      log,
      concurrency: 4,
      batchSize: 4,
      visibilityTimeoutMs: 5000,
      waitTimeMs: 50,
      readiness,
      async handle(message) {
        receives.set(message.body.n, message.receiveCount);
        if (!storeUp) throw new DependencyError('postgres', 'inserting failed (ECONNREFUSED)');
        handled.add(message.body.n);
      },
    });
    try {
      storeUp = false;
      await queue.sendBatch('events', Array.from({ length: 8 }, (_, n) => ({ body: { n } })));
      // Down for 2.5 s: without the pause, nacks after 250, 500, 1000 ms would spend all 3 receives.
      await sleep(2500);
      assert.equal(handled.size, 0);
      assert.ok(probes >= 2, `probed the backend while it was down (${probes} probes)`);
      const maxReceiveDuringOutage = Math.max(...receives.values());
      assert.equal(maxReceiveDuringOutage, 1, `each message was received at most once during the outage: ${JSON.stringify([...receives])}`);

      storeUp = true;
      const deadline = Date.now() + 8000;
      while (handled.size < 8 && Date.now() < deadline) await sleep(20);
      assert.equal(handled.size, 8, `handled after the outage: ${[...handled]}`);
      assert.deepEqual(await queue.readDeadLetters('events', 10), []);
    } finally {
      await consumer.stop();
    }
  });

  it('without a check for the failed backend, it pauses and lets the next message probe', async () => {
    const queue = createSqliteQueue(await databases.open(), { maxReceives: 10, pollIntervalMs: 5 });
    let failuresLeft = 3;
    const handledAt: number[] = [];
    const consumer = startConsumer<{ n: number }>({
      queue,
      topic: 'deliveries',
      log,
      concurrency: 1,
      batchSize: 1,
      visibilityTimeoutMs: 5000,
      waitTimeMs: 50,
      readiness: [],
      async handle() {
        if (failuresLeft > 0) {
          failuresLeft--;
          throw new DependencyError('resend', 'down');
        }
        handledAt.push(Date.now());
      },
    });
    try {
      await queue.send('deliveries', { body: { n: 1 } });
      const deadline = Date.now() + 8000;
      while (handledAt.length < 1 && Date.now() < deadline) await sleep(20);
      assert.equal(handledAt.length, 1);
      assert.equal(failuresLeft, 0);
    } finally {
      await consumer.stop();
    }
  });

  it('resumes when the backend is slow but up: a readiness check taking longer than the 2 s probe timeout still counts when it answers', async function () {
    this.timeout(20_000);
    const CHECK_MS = 2600;
    const queue = createSqliteQueue(await databases.open(), { maxReceives: 10, pollIntervalMs: 5 });
    let failuresLeft = 1;
    let probes = 0;
    const pendingChecks = new Set<Promise<void>>();
    const handled: number[] = [];
    const consumer = startConsumer<{ n: number }>({
      queue,
      topic: 'events',
      log,
      concurrency: 1,
      batchSize: 1,
      visibilityTimeoutMs: 5000,
      waitTimeMs: 50,
      // The backend answers every check, each after 2.6 s.
      readiness: [
        {
          name: 'postgres',
          check: () => {
            probes++;
            const answer = sleep(CHECK_MS).then(() => undefined);
            pendingChecks.add(answer);
            return answer;
          },
        },
      ],
      async handle(message) {
        if (failuresLeft > 0) {
          failuresLeft--;
          throw new DependencyError('postgres', 'statement timeout');
        }
        handled.push(message.body.n);
      },
    });
    try {
      const sentAt = Date.now();
      await queue.send('events', { body: { n: 1 } });
      const deadline = Date.now() + 12_000;
      while (handled.length < 1 && Date.now() < deadline) await sleep(20);
      assert.deepEqual(handled, [1], `handled once the slow check answered (${probes} probes started)`);
      const tookMs = Date.now() - sentAt;
      assert.ok(tookMs < CHECK_MS + 3000, `resumed ${tookMs} ms after the failure: about one check's time, not never`);
      assert.equal(probes, 1, 'the slow probe was waited for, not abandoned and started again');
    } finally {
      await consumer.stop();
      await Promise.all(pendingChecks);
    }
  });

  it('stop() ends a pause at once', async () => {
    const queue = createSqliteQueue(await databases.open(), { maxReceives: 10, pollIntervalMs: 5 });
    const consumer = startConsumer<{ n: number }>({
      queue,
      topic: 'events',
      log,
      concurrency: 1,
      batchSize: 1,
      visibilityTimeoutMs: 5000,
      waitTimeMs: 50,
      readiness: [{ name: 'postgres', check: async () => Promise.reject(new DependencyError('postgres', 'down')) }],
      handle: async () => {
        throw new DependencyError('postgres', 'down');
      },
    });
    await queue.send('events', { body: { n: 1 } });
    await sleep(1500); // several failed probes: the pause is at 1 s or more
    const started = Date.now();
    await consumer.stop();
    assert.ok(Date.now() - started < 500, `stopped in ${Date.now() - started} ms`);
  });
});

describe('queue consumer: a handler acks its message with its last write (ackWith)', function () {
  this.timeout(15_000);
  const databases = temporaryDatabases();
  after(() => databases.closeAll());
  const log = createLogger({ level: 'silent', service: 'test' });

  for (const shared of [true, false]) {
    it(shared ? 'in the write’s transaction (SQLite): acked once with it, unacked and handed out again when it fails' : 'after the write, on a queue without ackWith: the same outcome', async () => {
      const sqlite = createSqliteQueue(await databases.open(), { maxReceives: 5, pollIntervalMs: 5 });
      const queue: Queue = shared ? sqlite : Object.create(sqlite, { ackWith: { value: undefined } });
      const receives = new Map<number, number>();
      const consumer = startConsumer<{ n: number }>({
        queue,
        topic: 'events',
        log,
        concurrency: 2,
        batchSize: 2,
        visibilityTimeoutMs: 5000,
        waitTimeMs: 50,
        async handle(message, control) {
          const { n } = message.body;
          receives.set(n, message.receiveCount);
          // Message 2's first write fails (a body JSON cannot hold): its ack must not happen.
          const body = n === 2 && message.receiveCount === 1 ? { n: 1n } : { reply: n };
          await control.ackWith(() => queue.send('deliveries', { body }));
        },
      });
      try {
        await queue.sendBatch('events', [{ body: { n: 1 } }, { body: { n: 2 } }]);
        const replies: unknown[] = [];
        const deadline = Date.now() + 8000;
        while (replies.length < 2 && Date.now() < deadline) {
          const got = await queue.receive('deliveries', { maxMessages: 10, visibilityTimeoutMs: 30_000, waitTimeMs: 50 });
          replies.push(...got.map((m) => m.body));
        }
        assert.deepEqual(replies.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))), [{ reply: 1 }, { reply: 2 }]);
        assert.equal(receives.get(1), 1, 'message 1 acked with its write, not handed out again');
        assert.equal(receives.get(2), 2, 'message 2, whose write failed, was handed out again');
        await sleep(100);
        assert.deepEqual(await queue.depth('events'), { visible: 0, delayed: 0, inFlight: 0 }, 'both acked, once each');
      } finally {
        await consumer.stop();
      }
    });
  }
});
