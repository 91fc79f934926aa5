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

  describe('owners: a dead receiver\'s messages are taken over within seconds, a live one\'s never', function () {
    const HEARTBEAT_MS = 50;
    const STALE_MS = 300;
    const options = { maxReceives: MAX_RECEIVES, pollIntervalMs: 5, heartbeatMs: HEARTBEAT_MS, ownerStaleMs: STALE_MS };

    it('keeps a live owner\'s messages past the stale time, and hands a dead owner\'s out again well before their visibility timeout', async function () {
      const dir = databases.makeDir();
      const dying = await databases.open(dir);
      const a = createSqliteQueue(dying, options);
      const b = createSqliteQueue(await databases.open(dir), options);
      await a.sendBatch('deliveries', [{ body: { n: 1 } }, { body: { n: 2 } }]);
      const held = await a.receive('deliveries', { maxMessages: 10, visibilityTimeoutMs: 60_000, waitTimeMs: 0 });
      assert.equal(held.length, 2);

      // A alive (heartbeating) for several stale periods: B gets nothing.
      assert.deepEqual(await b.receive('deliveries', { maxMessages: 10, visibilityTimeoutMs: 60_000, waitTimeMs: STALE_MS * 3 }), []);

      // A dies (its connection gone: no more heartbeats, as after SIGKILL).
      dying.close();
      const diedAt = Date.now();
      const taken: ReceivedMessage[] = [];
      while (taken.length < 2 && Date.now() - diedAt < 5000) taken.push(...(await b.receive('deliveries', { maxMessages: 10, visibilityTimeoutMs: 60_000, waitTimeMs: 100 })));
      const tookMs = Date.now() - diedAt;
      assert.deepEqual(taken.map((m) => m.body).sort((x, y) => (x as { n: number }).n - (y as { n: number }).n), [{ n: 1 }, { n: 2 }]);
      assert.ok(taken.every((m) => m.receiveCount === 2), 'each counts its second receive');
      assert.ok(tookMs < STALE_MS + HEARTBEAT_MS * 4 + 200, `taken over ${tookMs} ms after the owner died (stale after ${STALE_MS} ms)`);
      // The dead owner's receipts are void: its late ack changes nothing.
      await a.ack('deliveries', held[0].receipt).catch(() => undefined);
      assert.deepEqual(await b.depth('deliveries'), { visible: 0, delayed: 0, inFlight: 2 });
      await b.close();
    });

    it('a closed queue\'s unacked messages are handed out again at once by another', async function () {
      const dir = databases.makeDir();
      const a = createSqliteQueue(await databases.open(dir), options);
      const b = createSqliteQueue(await databases.open(dir), options);
      await a.send('events', { body: 'left behind' });
      await a.receive('events', { maxMessages: 1, visibilityTimeoutMs: 60_000, waitTimeMs: 0 });
      await b.receive('events', { maxMessages: 1, visibilityTimeoutMs: 60_000, waitTimeMs: 0 }); // B starts heartbeating
      const closedAt = Date.now();
      await a.close();
      const [again] = await b.receive('events', { maxMessages: 1, visibilityTimeoutMs: 60_000, waitTimeMs: 2000 });
      assert.equal(again?.body, 'left behind');
      assert.ok(Date.now() - closedAt < HEARTBEAT_MS * 4 + 200, `${Date.now() - closedAt} ms after close`);
      await b.close();
    });
  });

  describe('SQLite specifics', function () {
    it('acks a message in the transaction of the writes made with it (ackWith), and not at all when one of them fails', async function () {
      const queue = createSqliteQueue(await databases.open(), { maxReceives: 3, pollIntervalMs: 5 });
      const options = { maxMessages: 10, visibilityTimeoutMs: 30_000, waitTimeMs: 0 };
      await queue.send('deliveries', { body: 'first' });
      const [first] = await queue.receive<string>('deliveries', options);
      await queue.ackWith('deliveries', first.receipt, () => queue.send('deliveries', { body: 'sent with the ack' }));
      const [next, ...rest] = await queue.receive<string>('deliveries', options);
      assert.equal(next.body, 'sent with the ack');
      assert.deepEqual(rest, [], 'the acked message is gone');

      // A write that fails in its savepoint (a body JSON cannot hold) takes the ack down with it.
      await assert.rejects(queue.ackWith('deliveries', next.receipt, () => queue.send('deliveries', { body: { n: 1n } })));
      assert.deepEqual(await queue.depth('deliveries'), { visible: 0, delayed: 0, inFlight: 1 }, 'still in flight, nothing sent');
      await queue.nack('deliveries', next.receipt, 0);
      const [again] = await queue.receive<string>('deliveries', options);
      assert.equal(again.body, 'sent with the ack', 'the message whose ack failed is handed out again');
      assert.equal(again.receiveCount, 2);
    });

    it('leaves messages with a skipped key in the queue, visible, and hands out the others', async function () {
      const queue = createSqliteQueue(await databases.open(), { maxReceives: 3, pollIntervalMs: 5 });
      await queue.sendBatch('deliveries', [
        { body: 'a1', key: 'busy' },
        { body: 'a2', key: 'busy' },
        { body: 'b1', key: 'idle' },
        { body: 'n1' },
      ]);
      const first = await queue.receive('deliveries', { maxMessages: 10, visibilityTimeoutMs: 30_000, waitTimeMs: 0, skipKeys: ['busy'] });
      assert.deepEqual(first.map((m) => m.body).sort(), ['b1', 'n1']);
      const started = Date.now();
      assert.deepEqual(await queue.receive('deliveries', { maxMessages: 10, visibilityTimeoutMs: 30_000, waitTimeMs: 100, skipKeys: ['busy'] }), []);
      assert.ok(Date.now() - started >= 90, 'waited out its poll instead of spinning on the skipped due messages');
      assert.equal((await queue.depth('deliveries')).visible, 2);
      const later = await queue.receive('deliveries', { maxMessages: 10, visibilityTimeoutMs: 30_000, waitTimeMs: 0 });
      assert.deepEqual(later.map((m) => m.body).sort(), ['a1', 'a2']);
      assert.ok(later.every((m) => m.receiveCount === 1), 'skipping is not a receive');
    });

    it('skipping keys, hands out the first due messages of the other keys in due order, with few keys (sought by index) and with many (read past)', async function () {
      for (const keyCount of [3, 300]) {
        const queue = createSqliteQueue(await databases.open(), { maxReceives: 3, pollIntervalMs: 5 });
        // A skipped key's backlog first (due earliest), then the other keys' messages interleaved
        // with delays, so due order differs from key order and from send order.
        await queue.sendBatch('deliveries', Array.from({ length: 2000 }, (_, i) => ({ body: `busy-${i}`, key: 'busy' })));
        const others = Array.from({ length: 40 }, (_, i) => ({ body: `k${i % keyCount}-${i}`, key: `k${i % keyCount}`, delayMs: (40 - i) % 7 }));
        await queue.sendBatch('deliveries', [...others, { body: 'none-0' }]);
        // Keys beyond the first few so the many-keys case has them all present.
        if (keyCount > 40) await queue.sendBatch('deliveries', Array.from({ length: keyCount - 40 }, (_, i) => ({ body: `late-${i}`, key: `k${i + 40}`, delayMs: 60_000 })));
        await new Promise((resolve) => setTimeout(resolve, 20));
        const got: string[] = [];
        for (;;) {
          const batch = await queue.receive<string>('deliveries', { maxMessages: 6, visibilityTimeoutMs: 30_000, waitTimeMs: 0, skipKeys: ['busy', 'k1'] });
          if (batch.length === 0) break;
          assert.ok(batch.length <= 6);
          got.push(...batch.map((m) => m.body));
        }
        const expected = others
          .map((m, i) => ({ ...m, i }))
          .filter((m) => m.key !== 'k1')
          .sort((a, b) => a.delayMs - b.delayMs || a.i - b.i)
          .map((m) => m.body);
        // The keyless message has no delay: it is due with the first of them.
        assert.deepEqual(got.filter((b) => b !== 'none-0'), expected, `${keyCount} keys`);
        assert.ok(got.includes('none-0'), `${keyCount} keys: the keyless message is handed out`);
        assert.equal((await queue.depth('deliveries')).visible, 2000 + others.filter((m) => m.key === 'k1').length, `${keyCount} keys`);
      }
    });

    it('hands out no more messages of a key than its room, in order, leaving the rest visible', async function () {
      const queue = createSqliteQueue(await databases.open(), { maxReceives: 3, pollIntervalMs: 5 });
      await queue.sendBatch('deliveries', [
        ...Array.from({ length: 5 }, (_, n) => ({ body: `slow${n}`, key: 'slow' })),
        { body: 'full1', key: 'full' },
        { body: 'other1', key: 'other' },
        { body: 'other2', key: 'other' },
        { body: 'other3', key: 'other' },
        { body: 'none' },
      ]);
      const keyRoom = { perKey: 2, keys: new Map([['slow', 1], ['full', 0]]) };
      const first = await queue.receive('deliveries', { maxMessages: 10, visibilityTimeoutMs: 30_000, waitTimeMs: 0, keyRoom });
      assert.deepEqual(first.map((m) => m.body), ['slow0', 'other1', 'other2', 'none'], 'room 1 for slow, none for full, the default 2 for other; unkeyed unlimited');
      assert.equal((await queue.depth('deliveries')).visible, 6, 'the rest stays visible');
      const started = Date.now();
      assert.deepEqual(await queue.receive('deliveries', { maxMessages: 10, visibilityTimeoutMs: 30_000, waitTimeMs: 100, keyRoom: { perKey: 2, keys: new Map([['slow', 0], ['full', 0], ['other', 0]]) } }), []);
      assert.ok(Date.now() - started >= 90, 'waited instead of spinning on what it may not take');
      const next = await queue.receive('deliveries', { maxMessages: 3, visibilityTimeoutMs: 30_000, waitTimeMs: 0, keyRoom: { perKey: 5, keys: new Map() } });
      assert.deepEqual(next.map((m) => m.body), ['slow1', 'slow2', 'slow3'], "a key's backlog comes out in order once it has room");
      assert.ok(next.every((m) => m.receiveCount === 1), 'being left for lack of room is not a receive');
      await queue.close();
    });

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
