import assert from 'node:assert/strict';
import { queueConformance } from '@triggers/testkit';
import type { ReceivedMessage } from '../../ports/queue.ts';
import { createSqliteQueue } from './queue.ts';
import { temporaryDatabases } from './testing.ts';

const MAX_RECEIVES = 3;

describe('SQLite queue', function () {
  const databases = temporaryDatabases();
  after(() => databases.closeAll());

  describe('woken in-process (1 s poll interval, so wake-ups come from sends and due times, not polling)', function () {
    queueConformance(async () => createSqliteQueue(await databases.open(), { maxReceives: MAX_RECEIVES, pollIntervalMs: 1000 }), {
      maxReceives: MAX_RECEIVES,
      timeUnitMs: 100,
      wakeWithinMs: 50,
      dueWithinMs: 50,
      closeWithinMs: 500,
      purgesAckedDeadLetters: true,
    });
  });

  describe('shared by several processes (one connection each)', function () {
    it('wakes a receiver on another connection within about one poll interval of a send', async function () {
      this.retries(2); // wall-clock latency: tolerate one starved sample
      const dir = databases.makeDir();
      const sender = createSqliteQueue(await databases.open(dir), { maxReceives: MAX_RECEIVES });
      const receiver = createSqliteQueue(await databases.open(dir), { maxReceives: MAX_RECEIVES, pollIntervalMs: 25 });
      const receiving = receiver.receive('events', { maxMessages: 1, visibilityTimeoutMs: 30_000, waitTimeMs: 5000 });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const sentAt = Date.now();
      await sender.send('events', { body: { hello: 'other process' } });
      const [message] = await receiving;
      assert.deepEqual(message?.body, { hello: 'other process' });
      assert.ok(Date.now() - sentAt < 150, `received ${Date.now() - sentAt} ms after the send`);
    });

    it('never hands one message to receivers on two connections', async function () {
      const dir = databases.makeDir();
      const a = createSqliteQueue(await databases.open(dir), { maxReceives: MAX_RECEIVES, pollIntervalMs: 5 });
      const b = createSqliteQueue(await databases.open(dir), { maxReceives: MAX_RECEIVES, pollIntervalMs: 5 });
      await a.sendBatch('deliveries', Array.from({ length: 300 }, (_, i) => ({ body: { i } })));
      const received: ReceivedMessage[] = [];
      await Promise.all(
        [a, b, a, b].map(async (queue) => {
          for (;;) {
            const batch = await queue.receive('deliveries', { maxMessages: 7, visibilityTimeoutMs: 60_000, waitTimeMs: 50 });
            if (batch.length === 0) return;
            received.push(...batch);
            for (const m of batch) await queue.ack('deliveries', m.receipt);
          }
        }),
      );
      assert.equal(received.length, 300);
      assert.equal(new Set(received.map((m) => m.id)).size, 300);
      assert.deepEqual(await a.depth('deliveries'), { visible: 0, delayed: 0, inFlight: 0 });
    });
  });

  describe('SQLite specifics', function () {
    it('restores synchronous=FULL after the receipts, acks and nacks it writes without their own fsync', async function () {
      const db = await databases.open(undefined, 'full');
      const queue = createSqliteQueue(db, { maxReceives: 3 });
      await queue.send('events', { body: 1 });
      const [message] = await queue.receive('events', { maxMessages: 1, visibilityTimeoutMs: 30_000, waitTimeMs: 0 });
      await queue.nack('events', message.receipt, 0);
      const [again] = await queue.receive('events', { maxMessages: 1, visibilityTimeoutMs: 30_000, waitTimeMs: 0 });
      await queue.ack('events', again.receipt);
      assert.equal(db.pragma('synchronous', { simple: true }), 2);
    });

    it('wraps SQLite failures in a DependencyError', async function () {
      const db = await databases.open();
      const queue = createSqliteQueue(db, { maxReceives: 3 });
      db.close();
      await assert.rejects(queue.send('events', { body: 1 }), { name: 'DependencyError' });
    });
  });
});
