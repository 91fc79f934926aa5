import assert from 'node:assert/strict';
import { queueConformance, requireEngine, sleep } from '@triggers/testkit';
import kafkajs from 'kafkajs';
import { createLogger } from '../../log.ts';
import type { ReceivedMessage, ReceiveOptions, Topic } from '../../ports/queue.ts';
import { startConsumer } from '../../queue-consumer.ts';
import type { KafkaQueue } from './queue.ts';
import { KAFKA_TEST_ENGINE, splitBrokers, temporaryQueues } from './testing.ts';

const MAX_RECEIVES = 3;
const TOPIC: Topic = 'deliveries';

describe('Kafka queue', function () {
  this.timeout(60_000);
  const kafka = requireEngine(KAFKA_TEST_ENGINE);
  const queues = temporaryQueues(() => kafka.address, 'queue');
  after(() => queues.cleanup());

  describe('on a fresh topic prefix per test, consumer groups joined up front', function () {
    queueConformance(() => queues.open({ maxReceives: MAX_RECEIVES, consume: ['events', 'deliveries'] }), {
      maxReceives: MAX_RECEIVES,
      timeUnitMs: 100,
      // Delay-topic partitions are polled every 100 ms once due; the re-published copy is then fetched at once.
      dueWithinMs: 500,
      closeWithinMs: 2000,
      openUnreachable: () => queues.open({ brokers: ['127.0.0.1:1'] }),
    });
  });

  describe('Kafka specifics', function () {
    const options = (o: Partial<ReceiveOptions> = {}): ReceiveOptions => ({ maxMessages: 10, visibilityTimeoutMs: 30_000, waitTimeMs: 200, ...o });

    async function receiveAll(queue: KafkaQueue, count: number, o: Partial<ReceiveOptions> = {}, withinMs = 10_000): Promise<ReceivedMessage[]> {
      const out: ReceivedMessage[] = [];
      const deadline = Date.now() + withinMs;
      while (out.length < count && Date.now() < deadline) out.push(...(await queue.receive(TOPIC, options(o))));
      return out;
    }

    async function committedOffsets(queue: KafkaQueue, topic: Topic): Promise<Map<number, number>> {
      const names = queue.topicNames(topic);
      const admin = new kafkajs.Kafka({ brokers: splitBrokers(kafka.address), logLevel: kafkajs.logLevel.NOTHING }).admin();
      await admin.connect();
      try {
        const [result] = await admin.fetchOffsets({ groupId: names.group, topics: [names.main] });
        return new Map(result.partitions.map((p) => [p.partition, Number(p.offset)]));
      } finally {
        await admin.disconnect();
      }
    }

    /** Polls until `check` holds (commits are asynchronous to acks). */
    async function eventually(check: () => Promise<boolean>, what: string, withinMs = 5000): Promise<void> {
      const deadline = Date.now() + withinMs;
      while (!(await check())) {
        if (Date.now() > deadline) assert.fail(`not within ${withinMs} ms: ${what}`);
        await sleep(50);
      }
    }

    const seq = (m: ReceivedMessage) => (m.body as { seq: number }).seq;

    it('creates main, delay-tier and dead-letter topics with the configured partitions, and opens again on them', async function () {
      const prefix = queues.newPrefix();
      const queue = await queues.open({ topicPrefix: prefix, partitions: 4, delayPartitions: 2 });
      const names = queue.topicNames('events');
      assert.equal(names.main, `${prefix}-events`);
      assert.equal(names.deadLetter, `${prefix}-events-dlq`);
      assert.deepEqual(names.delay, ['1s', '10s', '1m', '10m', '1h'].map((t) => `${prefix}-events-delay-${t}`));
      assert.equal(names.group, `${prefix}-events-consumers`);
      const admin = new kafkajs.Kafka({ brokers: splitBrokers(kafka.address), logLevel: kafkajs.logLevel.NOTHING }).admin();
      await admin.connect();
      try {
        const { topics } = await admin.fetchTopicMetadata({ topics: [names.main, names.deadLetter, names.delay[0]] });
        assert.deepEqual(Object.fromEntries(topics.map((t) => [t.name, t.partitions.length])), {
          [names.main]: 4,
          [names.deadLetter]: 1,
          [names.delay[0]]: 2,
        });
      } finally {
        await admin.disconnect();
      }
      const again = await queues.open({ topicPrefix: prefix });
      await again.send('events', { body: 'still works' });
    });

    it('hands out the messages of one key in the order they were sent, across partitions and receivers', async function () {
      const queue = await queues.open({ consume: [TOPIC] });
      const keys = ['customer-a', 'customer-b', 'customer-c', 'customer-d'];
      for (let round = 0; round < 3; round++) {
        await queue.sendBatch(TOPIC, Array.from({ length: 20 }, (_, i) => ({ key: keys[i % keys.length], body: { seq: round * 20 + i } })));
      }
      const received: ReceivedMessage[] = [];
      await Promise.all(
        Array.from({ length: 3 }, async () => {
          while (received.length < 60) {
            const batch = await queue.receive(TOPIC, options({ maxMessages: 4 }));
            received.push(...batch);
            for (const m of batch) await queue.ack(TOPIC, m.receipt);
          }
        }),
      );
      assert.equal(received.length, 60);
      for (const [k, key] of keys.entries()) {
        const order = received.map(seq).filter((s) => s % keys.length === k);
        assert.deepEqual(order, [...order].sort((a, b) => a - b), `messages of ${key} in send order`);
      }
    });

    it('hands out no more messages of a key than its room, in order, leaving the rest in the partition unreceived', async function () {
      const queue = await queues.open({ partitions: 1, consume: [TOPIC] });
      assert.equal(queue.capabilities.skipKeys, true);
      await queue.sendBatch(TOPIC, [
        ...Array.from({ length: 5 }, (_, n) => ({ key: 'slow', body: { seq: n } })),
        { key: 'full', body: { seq: 5 } },
        { key: 'other', body: { seq: 6 } },
        { key: 'other', body: { seq: 7 } },
        { key: 'other', body: { seq: 8 } },
        { body: { seq: 9 } },
      ]);
      const keyRoom = { perKey: 2, keys: new Map([['slow', 1], ['full', 0]]) };
      const first = await receiveAll(queue, 4, { keyRoom });
      assert.deepEqual(first.map(seq), [0, 6, 7, 9], 'room 1 for slow, none for full, the default 2 for other; unkeyed unlimited');
      const started = Date.now();
      const none = { perKey: 2, keys: new Map([['slow', 0], ['full', 0], ['other', 0]]) };
      assert.deepEqual(await queue.receive(TOPIC, options({ waitTimeMs: 150, keyRoom: none })), []);
      assert.ok(Date.now() - started >= 140, 'waited out its poll instead of spinning on what it may not take');
      assert.deepEqual((await queue.receive(TOPIC, options({ waitTimeMs: 0, skipKeys: ['slow', 'full'] }))).map(seq), [8], 'skipKeys leaves those keys');
      const next = await receiveAll(queue, 3, { maxMessages: 3, keyRoom: { perKey: 5, keys: new Map([['full', 0]]) } });
      assert.deepEqual(next.map(seq), [1, 2, 3], "a key's backlog comes out in order once it has room");
      assert.ok(next.every((m) => m.receiveCount === 1), 'being left for lack of room is not a receive');
      for (const m of [...first, ...next]) await queue.ack(TOPIC, m.receipt);
      await eventually(async () => (await committedOffsets(queue, TOPIC)).get(0) === 4, 'committed up to the first message left (slow:4), not past it');
    });

    it('with serializeKeys, holds a message back while an earlier one with its key is in flight', async function () {
      const queue = await queues.open({ serializeKeys: true, partitions: 1, consume: [TOPIC] });
      await queue.sendBatch(TOPIC, [
        { key: 'a', body: { seq: 1 } },
        { key: 'a', body: { seq: 2 } },
        { key: 'b', body: { seq: 3 } },
        { body: { seq: 4 } },
      ]);
      const first = await receiveAll(queue, 3);
      assert.deepEqual(first.map(seq), [1, 3, 4], 'a:2 waits for a:1');
      assert.deepEqual(await queue.receive(TOPIC, options({ waitTimeMs: 100 })), []);

      const a1 = first[0];
      await queue.nack(TOPIC, a1.receipt, 0);
      const [again] = await receiveAll(queue, 1);
      assert.deepEqual([seq(again), again.receiveCount], [1, 2], 'a nacked a:1 still comes before a:2');

      const waiting = queue.receive(TOPIC, options({ waitTimeMs: 5000 }));
      await sleep(50);
      await queue.ack(TOPIC, again.receipt);
      const [a2] = await waiting;
      assert.equal(seq(a2), 2, 'the ack woke the waiting receiver with a:2');
    });

    it('commits only the contiguous prefix of acked offsets, so a restarted consumer gets every unacked message again', async function () {
      const prefix = queues.newPrefix();
      const first = await queues.open({ topicPrefix: prefix, partitions: 1, consume: [TOPIC] });
      await first.sendBatch(TOPIC, Array.from({ length: 5 }, (_, i) => ({ key: 'k', body: { seq: i } })));
      const received = await receiveAll(first, 5);
      assert.deepEqual(received.map(seq), [0, 1, 2, 3, 4]);
      for (const i of [3, 1, 0]) await first.ack(TOPIC, received[i].receipt);
      await eventually(async () => (await committedOffsets(first, TOPIC)).get(0) === 2, 'offset 2 committed');
      await sleep(300);
      assert.equal((await committedOffsets(first, TOPIC)).get(0), 2, 'not past the unacked message at offset 2');
      await first.close();

      const second = await queues.open({ topicPrefix: prefix, partitions: 1, consume: [TOPIC] });
      const redelivered = await receiveAll(second, 3);
      assert.deepEqual(redelivered.map(seq), [2, 3, 4], 'from the first unacked offset on; 3 again, as it lies past the gap');
      assert.deepEqual(await second.receive(TOPIC, options({ waitTimeMs: 300 })), []);
      assert.deepEqual(
        redelivered.map((m) => m.id),
        [2, 3, 4].map((i) => received[i].id),
        'the same message ids',
      );
    });

    it('after a rebalance, the new owner of a partition gets its unacked messages and acks of the old owner are ignored', async function () {
      const prefix = queues.newPrefix();
      const first = await queues.open({ topicPrefix: prefix, partitions: 2, consume: [TOPIC] });
      await first.sendBatch(TOPIC, Array.from({ length: 20 }, (_, i) => ({ key: `key-${i}`, body: { seq: i } })));
      const held = await receiveAll(first, 20, { maxMessages: 20 });
      assert.equal(held.length, 20);

      const second = await queues.open({ topicPrefix: prefix, partitions: 2, consume: [TOPIC] });
      await eventually(async () => first.assignedPartitions(TOPIC).length === 1, 'the first member rejoined with one partition');
      assert.deepEqual([...first.assignedPartitions(TOPIC), ...second.assignedPartitions(TOPIC)].sort(), [0, 1]);
      for (const m of held) await first.ack(TOPIC, m.receipt);
      const taken = await receiveAll(second, 20, {}, 3000);
      assert.ok(taken.length > 0 && taken.length < 20, `the second member got one partition's messages (${taken.length})`);
      const heldIds = new Set(held.map((m) => m.id));
      assert.ok(
        taken.every((m) => heldIds.has(m.id)),
        'only messages the first member held',
      );
      for (const m of taken) await second.ack(TOPIC, m.receipt);
      assert.deepEqual(await first.receive(TOPIC, options({ waitTimeMs: 300 })), [], 'the first member kept its partition and its acks');
      await eventually(async () => {
        const committed = await committedOffsets(first, TOPIC);
        return [...committed.values()].reduce((a, b) => a + Math.max(0, b), 0) === 20;
      }, 'all 20 offsets committed across both partitions');
    });

    it('a delayed message does not hold up later messages of its partition', async function () {
      const queue = await queues.open({ partitions: 1, consume: [TOPIC] });
      const sentAt = Date.now();
      await queue.send(TOPIC, { key: 'k', body: { seq: 1 }, delayMs: 2000 });
      await queue.send(TOPIC, { key: 'k', body: { seq: 2 } });
      const [now] = await receiveAll(queue, 1);
      assert.equal(seq(now), 2);
      assert.ok(Date.now() - sentAt < 1500, 'the undelayed message came first and at once');
      await queue.ack(TOPIC, now.receipt);
      const [later] = await receiveAll(queue, 1);
      assert.equal(seq(later), 1);
      assert.ok(Date.now() - sentAt >= 2000, 'not before its delay');
    });

    it('nack with a delay moves the message to a delay topic: its partition commits past it and goes on', async function () {
      const queue = await queues.open({ partitions: 1, consume: [TOPIC] });
      await queue.sendBatch(TOPIC, [
        { key: 'k', body: { seq: 1 } },
        { key: 'k', body: { seq: 2 } },
      ]);
      const [m1, m2] = await receiveAll(queue, 2);
      const nackedAt = Date.now();
      await queue.nack(TOPIC, m1.receipt, 1500);
      await queue.ack(TOPIC, m2.receipt);
      await eventually(async () => (await committedOffsets(queue, TOPIC)).get(0) === 2, 'both offsets committed while seq 1 waits');
      await queue.send(TOPIC, { key: 'k', body: { seq: 3 } });
      const [m3] = await receiveAll(queue, 1);
      assert.equal(seq(m3), 3, 'later messages of the partition flow while seq 1 waits');
      await queue.ack(TOPIC, m3.receipt);
      const [back] = await receiveAll(queue, 1);
      assert.deepEqual([seq(back), back.receiveCount, back.id], [1, 2, m1.id]);
      assert.ok(Date.now() - nackedAt >= 1500, 'not before the nack delay');
    });

    it('waits through several delay tiers (a 12 s delay passes the 10 s and 1 s tiers)', async function () {
      this.timeout(30_000);
      const queue = await queues.open({ consume: [TOPIC] });
      const sentAt = Date.now();
      await queue.send(TOPIC, { body: { seq: 1 }, delayMs: 12_000 });
      const depth = await queue.depth(TOPIC);
      assert.equal(depth.delayed, 1, 'counted as delayed');
      const [message] = await receiveAll(queue, 1, {}, 20_000);
      const late = Date.now() - sentAt - 12_000;
      assert.ok(message, 'received');
      assert.ok(late >= 0 && late < 1500, `received ${late} ms after its due time`);
    });

    it('dead-letters a message nacked with a delay after maxReceives receives, keeping its receive count', async function () {
      const queue = await queues.open({ maxReceives: 2, consume: [TOPIC] });
      await queue.send(TOPIC, { body: { seq: 1 } });
      const [first] = await receiveAll(queue, 1);
      await queue.nack(TOPIC, first.receipt, 100);
      const [second] = await receiveAll(queue, 1);
      assert.equal(second.receiveCount, 2);
      await queue.nack(TOPIC, second.receipt, 100);
      assert.deepEqual(await queue.receive(TOPIC, options({ waitTimeMs: 800 })), [], 'not delivered a third time');
      const [dead, ...rest] = await queue.readDeadLetters(TOPIC, 10);
      assert.deepEqual(rest, []);
      assert.deepEqual([dead.id, dead.body, dead.receiveCount], [first.id, { seq: 1 }, 2]);
      await queue.ack(TOPIC, dead.receipt); // inert: Kafka cannot delete one message
    });

    it('reports consumer lag as depth: visible, delayed, and this process\'s in-flight messages', async function () {
      const queue = await queues.open({ consume: [TOPIC] });
      assert.deepEqual(await queue.depth(TOPIC), { visible: 0, delayed: 0, inFlight: 0 });
      await queue.sendBatch(TOPIC, [{ body: 1 }, { body: 2 }, { body: 3 }, { body: 4, delayMs: 60_000 }]);
      await queue.send('events', { body: 5 });
      const [taken] = await receiveAll(queue, 1, { maxMessages: 1 });
      assert.deepEqual(await queue.depth(TOPIC), { visible: 2, delayed: 1, inFlight: 1 });
      await queue.ack(TOPIC, taken.receipt);
      // Lag is read from the broker while the ack's commit travels: approximate until it landed.
      await eventually(async () => {
        const depth = await queue.depth(TOPIC);
        return depth.visible === 2 && depth.delayed === 1 && depth.inFlight === 0;
      }, 'the ack counted: 2 visible, 1 delayed, none in flight');
    });

    it('pauses a partition whose buffer is full and resumes it as messages are acked', async function () {
      const queue = await queues.open({ partitions: 1, maxBufferedPerPartition: 4, consume: [TOPIC] });
      for (let i = 0; i < 10; i++) await queue.sendBatch(TOPIC, Array.from({ length: 5 }, (_, j) => ({ body: { seq: i * 5 + j } })));
      const received: number[] = [];
      const deadline = Date.now() + 15_000;
      while (received.length < 50 && Date.now() < deadline) {
        for (const m of await queue.receive(TOPIC, options({ maxMessages: 3 }))) {
          received.push(seq(m));
          await queue.ack(TOPIC, m.receipt);
        }
      }
      assert.deepEqual(received, Array.from({ length: 50 }, (_, i) => i));
    });

    it('serves the consumer loop: many messages in flight, acked out of order, failures retried through the delay topics', async function () {
      const queue = await queues.open({ consume: [TOPIC] });
      const total = 200;
      await queue.sendBatch(TOPIC, Array.from({ length: total }, (_, i) => ({ key: `subscription-${i % 7}`, body: { seq: i } })));
      const handled = new Set<number>();
      const failedOnce = new Set<number>();
      const consumer = startConsumer<{ seq: number }>({
        queue,
        topic: TOPIC,
        log: createLogger({ level: 'silent', service: 'test' }),
        concurrency: 16,
        batchSize: 8,
        visibilityTimeoutMs: 10_000,
        waitTimeMs: 200,
        async handle(message) {
          await sleep(Math.floor(Math.random() * 10));
          const { seq: n } = message.body;
          if (n % 25 === 0 && !failedOnce.has(n)) {
            failedOnce.add(n);
            throw new Error('first attempt fails');
          }
          handled.add(n);
        },
      });
      try {
        await eventually(async () => handled.size === total, `all ${total} handled`, 20_000);
      } finally {
        await consumer.stop();
      }
      assert.equal(failedOnce.size, total / 25);
      // Retried messages were appended again after their delay: every offset, old and new, is committed.
      await eventually(async () => {
        const depth = await queue.depth(TOPIC);
        return depth.visible === 0 && depth.delayed === 0 && depth.inFlight === 0;
      }, 'no lag left on the main and delay topics');
    });

  });
});
