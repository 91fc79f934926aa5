import assert from 'node:assert/strict';
import type { Queue, ReceivedMessage, ReceiveOptions, Topic } from '@triggers/core/ports';
import { itIf, sleep, uniqueId } from './helpers.ts';

export interface QueueSuiteCapabilities {
  /** The adapter's `maxReceives` setting (for the dead-letter test). */
  maxReceives: number;
  /**
   * The time step for visibility timeouts and delays in these tests: the smallest the backend
   * honours with room to spare (SQLite: 100 ms). Never below the queue's own
   * `capabilities.visibilityGranularityMs` (SQS counts whole seconds: 1000 ms).
   */
  timeUnitMs?: number;
  /** A waiting receiver gets a message this soon after it is sent. Default 200 ms. */
  wakeWithinMs?: number;
  /**
   * A waiting receiver gets a delayed message this soon after it is due, if the backend promises
   * it (embedded mode promises 50 ms); `undefined` skips those tests.
   */
  dueWithinMs?: number;
  /** `ack` with a receipt from `readDeadLetters` deletes that dead letter (not Kafka: its dead-letter topic is a log). */
  purgesAckedDeadLetters?: boolean;
  /** `close` wakes a waiting receiver this soon. Default 1000 ms. */
  closeWithinMs?: number;
  /** Opens the adapter against an address where no engine answers; `undefined` skips that test. */
  openUnreachable?: () => Promise<Queue>;
}

const TOPIC: Topic = 'deliveries';
/**
 * Latency assertions measure wall-clock time; on a starved CPU (parallel test runs) one sample
 * can miss. A real regression (a missing wake-up is late by a whole poll interval) fails every try.
 */
const LATENCY_RETRIES = 2;

/**
 * The Queue contract (ports/queue.ts). `makeQueue` is called before every test and must return a
 * queue whose two topics are empty and seen by no other test; the suite closes it afterwards.
 * `deadLetter` and `exactDepth` are read from the queue's own `capabilities`.
 */
export function queueConformance(makeQueue: () => Promise<Queue>, capabilities: QueueSuiteCapabilities): void {
  let unit = capabilities.timeUnitMs ?? 100;
  const wakeWithinMs = capabilities.wakeWithinMs ?? 200;
  const { dueWithinMs } = capabilities;

  describe('Queue conformance', function () {
    let queue: Queue;
    let closedByTest = false;

    beforeEach(async function () {
      closedByTest = false;
      queue = await makeQueue();
      unit = Math.max(capabilities.timeUnitMs ?? 100, queue.capabilities.visibilityGranularityMs ?? 0);
    });

    afterEach(async function () {
      if (!closedByTest) await queue?.close();
    });

    const now = (o: Partial<ReceiveOptions> = {}): ReceiveOptions => ({ maxMessages: 10, visibilityTimeoutMs: 30_000, waitTimeMs: 0, ...o });
    const body = () => ({ marker: uniqueId(), nested: { list: [1, 'a', null] } });

    /** Receives until `count` messages arrived or `withinMs` passed. */
    async function receiveAll(count: number, options: Partial<ReceiveOptions> = {}, withinMs = 5000): Promise<ReceivedMessage[]> {
      const out: ReceivedMessage[] = [];
      const deadline = Date.now() + withinMs;
      while (out.length < count && Date.now() < deadline) {
        out.push(...(await queue.receive(TOPIC, now({ waitTimeMs: 200, ...options }))));
      }
      return out;
    }

    /** Sends one message and nacks it past `maxReceives`; returns what was sent. */
    async function deadLetterOne(): Promise<unknown> {
      const sent = body();
      await queue.send(TOPIC, { body: sent });
      for (let i = 1; i <= capabilities.maxReceives; i++) {
        const [message] = await receiveAll(1);
        await queue.nack(TOPIC, message.receipt, 0);
      }
      assert.deepEqual(await queue.receive(TOPIC, now({ waitTimeMs: unit * 2 })), [], 'not delivered again');
      return sent;
    }

    describe('send, receive, ack', function () {
      it('delivers a message with its body, an id, receive count 1 and its enqueue time', async function () {
        const before = Date.now();
        const sent = body();
        await queue.send(TOPIC, { body: sent, key: 'customer-1' });
        const [message, ...rest] = await receiveAll(1);
        assert.deepEqual(rest, []);
        assert.deepEqual(message.body, sent);
        assert.equal(typeof message.id, 'string');
        assert.equal(typeof message.receipt, 'string');
        assert.equal(message.receiveCount, 1);
        assert.ok(message.enqueuedAt >= before - 1000 && message.enqueuedAt <= Date.now() + 1000, 'enqueuedAt is the send time');
      });

      it('never delivers an acked message again', async function () {
        await queue.send(TOPIC, { body: body() });
        const [message] = await receiveAll(1, { visibilityTimeoutMs: unit });
        await queue.ack(TOPIC, message.receipt);
        await sleep(unit * 2);
        assert.deepEqual(await queue.receive(TOPIC, now({ waitTimeMs: unit })), []);
      });

      it('delivers every message of a batch once, at most maxMessages per receive', async function () {
        const bodies = Array.from({ length: 25 }, body);
        await queue.sendBatch(TOPIC, bodies.map((b) => ({ body: b })));
        const received: ReceivedMessage[] = [];
        for (let i = 0; i < 50 && received.length < 25; i++) {
          const batch = await queue.receive(TOPIC, now({ maxMessages: 10, waitTimeMs: 200 }));
          assert.ok(batch.length <= 10, 'maxMessages is honoured');
          for (const m of batch) await queue.ack(TOPIC, m.receipt);
          received.push(...batch);
        }
        assert.equal(received.length, 25);
        assert.deepEqual(new Set(received.map((m) => (m.body as { marker: string }).marker)), new Set(bodies.map((b) => b.marker)));
        assert.equal(new Set(received.map((m) => m.id)).size, 25, 'distinct ids');
      });

      it('accepts an empty batch', async function () {
        await queue.sendBatch(TOPIC, []);
        assert.deepEqual(await queue.receive(TOPIC, now()), []);
      });

      it('keeps topics apart', async function () {
        const forEvents = body();
        await queue.send('events', { body: forEvents });
        assert.deepEqual(await queue.receive('deliveries', now({ waitTimeMs: unit })), []);
        const [message] = await queue.receive('events', now({ waitTimeMs: 1000 }));
        assert.deepEqual(message.body, forEvents);
      });

      it('never hands one message to two concurrent receivers', async function () {
        await queue.sendBatch(TOPIC, Array.from({ length: 30 }, () => ({ body: body() })));
        const batches = await Promise.all(Array.from({ length: 6 }, () => queue.receive(TOPIC, now({ maxMessages: 10, waitTimeMs: 300 }))));
        const ids = batches.flat().map((m) => m.id);
        assert.equal(new Set(ids).size, ids.length, 'no message twice');
        const rest = await receiveAll(30 - ids.length);
        assert.equal(ids.length + rest.length, 30);
      });
    });

    describe('visibility timeout', function () {
      it('hides a received message until its timeout, then redelivers it with receiveCount 2 and a new receipt', async function () {
        const sent = body();
        await queue.send(TOPIC, { body: sent });
        const [first] = await receiveAll(1, { visibilityTimeoutMs: unit * 3 });
        assert.deepEqual(await queue.receive(TOPIC, now()), [], 'hidden while in flight');
        await sleep(unit * 4);
        const [second] = await receiveAll(1, { visibilityTimeoutMs: 30_000 });
        assert.deepEqual(second.body, sent);
        assert.equal(second.id, first.id);
        assert.equal(second.receiveCount, 2);
        assert.notEqual(second.receipt, first.receipt);
      });

      it('extendVisibility keeps a message hidden past its first timeout', async function () {
        await queue.send(TOPIC, { body: body() });
        const [message] = await receiveAll(1, { visibilityTimeoutMs: unit * 2 });
        await queue.extendVisibility(TOPIC, message.receipt, unit * 10);
        await sleep(unit * 4);
        assert.deepEqual(await queue.receive(TOPIC, now()), [], 'still hidden after the first timeout');
        await queue.nack(TOPIC, message.receipt, 0);
        const [again] = await receiveAll(1);
        assert.equal(again.receiveCount, 2);
      });

      it('ignores ack, nack and extendVisibility with a stale receipt', async function () {
        await queue.send(TOPIC, { body: body() });
        const [first] = await receiveAll(1, { visibilityTimeoutMs: unit });
        await sleep(unit * 2);
        const [second] = await receiveAll(1, { visibilityTimeoutMs: 30_000 });
        assert.equal(second.id, first.id);

        await queue.ack(TOPIC, first.receipt);
        await queue.nack(TOPIC, first.receipt, 0);
        await queue.extendVisibility(TOPIC, first.receipt, 1);
        assert.deepEqual(await queue.receive(TOPIC, now()), [], 'stale calls neither deleted nor released it');

        await queue.nack(TOPIC, second.receipt, 0);
        const [third] = await receiveAll(1);
        assert.equal(third.receiveCount, 3, 'the message survived the stale ack');
        await queue.ack(TOPIC, third.receipt);
        await queue.ack(TOPIC, third.receipt);
        await queue.ack(TOPIC, 'not-a-receipt');
      });
    });

    describe('delays', function () {
      it('keeps a delayed message invisible until its delay has passed', async function () {
        const sent = body();
        const sentAt = Date.now();
        await queue.send(TOPIC, { body: sent, delayMs: unit * 5 });
        assert.deepEqual(await queue.receive(TOPIC, now({ waitTimeMs: unit })), []);
        const [message] = await receiveAll(1, {}, unit * 30);
        assert.ok(Date.now() - sentAt >= unit * 5 - 5, 'not before its delay');
        assert.deepEqual(message.body, sent);
        assert.equal(message.receiveCount, 1);
      });

      it('nack with a delay makes the message visible again after that delay, with receiveCount + 1', async function () {
        await queue.send(TOPIC, { body: body() });
        const [first] = await receiveAll(1);
        const nackedAt = Date.now();
        await queue.nack(TOPIC, first.receipt, unit * 4);
        assert.deepEqual(await queue.receive(TOPIC, now({ waitTimeMs: unit })), []);
        const [again] = await receiveAll(1, {}, unit * 30);
        assert.ok(Date.now() - nackedAt >= unit * 4 - 5, 'not before the nack delay');
        assert.equal(again.receiveCount, 2);
      });

      it('nack without a delay makes the message visible at once', async function () {
        await queue.send(TOPIC, { body: body() });
        const [first] = await receiveAll(1);
        await queue.nack(TOPIC, first.receipt, 0);
        const [again] = await queue.receive(TOPIC, now({ waitTimeMs: 1000 }));
        assert.equal(again?.receiveCount, 2);
      });
    });

    describe('dead letters', function () {
      it('moves a message received more than maxReceives times to the dead-letter queue', async function () {
        if (!queue.capabilities.deadLetter) this.skip();
        const sent = body();
        await queue.send(TOPIC, { body: sent });
        for (let i = 1; i <= capabilities.maxReceives; i++) {
          const [message] = await receiveAll(1);
          assert.equal(message.receiveCount, i);
          await queue.nack(TOPIC, message.receipt, 0);
        }
        assert.deepEqual(await queue.receive(TOPIC, now({ waitTimeMs: unit * 2 })), [], 'not delivered again');
        const dead = await queue.readDeadLetters(TOPIC, 10);
        assert.equal(dead.length, 1);
        assert.deepEqual(dead[0].body, sent);
        assert.deepEqual(await queue.readDeadLetters('events', 10), [], 'per topic');
      });

      it('counts the dead letters of each topic (deadLetterDepth)', async function () {
        if (!queue.capabilities.deadLetter) this.skip();
        this.timeout(60_000);
        const before = await queue.deadLetterDepth(TOPIC);
        await deadLetterOne();
        // Approximate counts (SQS attributes) must settle on the right number while nothing moves.
        const deadline = Date.now() + (queue.capabilities.exactDepth ? 0 : 15_000);
        let count = await queue.deadLetterDepth(TOPIC);
        while (count !== before + 1 && Date.now() < deadline) {
          await sleep(250);
          count = await queue.deadLetterDepth(TOPIC);
        }
        assert.equal(count, before + 1);
        assert.equal(await queue.deadLetterDepth('events'), 0, 'per topic');
      });
    });

    describe('dead letters, acked', function () {
      it('lists a dead letter without consuming it', async function () {
        if (!queue.capabilities.deadLetter) this.skip();
        this.timeout(60_000);
        const sent = await deadLetterOne();
        const [dead] = await queue.readDeadLetters(TOPIC, 10);
        assert.deepEqual(dead?.body, sent);
        const [again] = await queue.readDeadLetters(TOPIC, 10);
        assert.equal(again?.id, dead.id, 'reading is not consuming');
      });

      it('purges a dead letter acked with the receipt readDeadLetters gave', async function () {
        if (!queue.capabilities.deadLetter || !capabilities.purgesAckedDeadLetters) this.skip();
        this.timeout(60_000);
        await deadLetterOne();
        const [dead] = await queue.readDeadLetters(TOPIC, 10);
        await queue.ack(TOPIC, dead.receipt);
        assert.deepEqual(await queue.readDeadLetters(TOPIC, 10), []);
      });
    });

    describe('close', function () {
      it('wakes a receiver waiting on an empty topic with no messages, without waiting out waitTimeMs', async function () {
        const receiving = queue.receive(TOPIC, now({ waitTimeMs: 10_000 }));
        await sleep(200);
        const start = Date.now();
        closedByTest = true;
        await queue.close();
        assert.deepEqual(await receiving, []);
        const closeWithinMs = capabilities.closeWithinMs ?? 1000;
        assert.ok(Date.now() - start < closeWithinMs, `woken ${Date.now() - start} ms after close (promised ${closeWithinMs} ms)`);
      });
    });

    describe('an unreachable engine', function () {
      it('fails with a retryable DependencyError', async function () {
        if (!capabilities.openUnreachable) this.skip();
        this.timeout(60_000);
        const attempt = async () => {
          const unreachable = await capabilities.openUnreachable!();
          try {
            await unreachable.send(TOPIC, { body: body() });
          } finally {
            await unreachable.close().catch(() => undefined);
          }
        };
        await assert.rejects(attempt(), (error: Error & { retryable?: boolean }) => {
          assert.equal(error.name, 'DependencyError', String(error));
          assert.equal(error.retryable, true);
          return true;
        });
      });
    });

    describe('long polling', function () {
      it('returns at once with waitTimeMs 0 when the topic is empty', async function () {
        const start = Date.now();
        assert.deepEqual(await queue.receive(TOPIC, now({ waitTimeMs: 0 })), []);
        assert.ok(Date.now() - start < 500);
      });

      it('waits about waitTimeMs for a message that never comes', async function () {
        const start = Date.now();
        assert.deepEqual(await queue.receive(TOPIC, now({ waitTimeMs: unit * 3 })), []);
        const waited = Date.now() - start;
        assert.ok(waited >= unit * 3 - 10, `waited ${waited} ms`);
        assert.ok(waited < unit * 3 + 2000, `waited ${waited} ms`);
      });

      it(`wakes a waiting receiver when a message is sent`, async function () {
        this.retries(LATENCY_RETRIES);
        const receiving = queue.receive(TOPIC, now({ waitTimeMs: 10_000 }));
        await sleep(100);
        const sentAt = Date.now();
        const sent = body();
        await queue.send(TOPIC, { body: sent });
        const [message] = await receiving;
        const latency = Date.now() - sentAt;
        assert.deepEqual(message?.body, sent);
        assert.ok(latency <= wakeWithinMs, `received ${latency} ms after the send`);
      });

      itIf(dueWithinMs !== undefined)('delivers a delayed message to a receiver already waiting within dueWithinMs of its due time', async function () {
        this.retries(LATENCY_RETRIES);
        const receiving = queue.receive(TOPIC, now({ waitTimeMs: 10_000 }));
        await sleep(50);
        const delayMs = unit * 3;
        const dueAt = Date.now() + delayMs;
        await queue.send(TOPIC, { body: body(), delayMs });
        const [message] = await receiving;
        const late = Date.now() - dueAt;
        assert.ok(message, 'received');
        assert.ok(late >= -5, `not before its due time (${late} ms)`);
        assert.ok(late <= dueWithinMs!, `received ${late} ms after its due time`);
      });

      itIf(dueWithinMs !== undefined)('delivers a delayed message to a receiver that starts waiting after the send, within dueWithinMs', async function () {
        this.retries(LATENCY_RETRIES);
        const delayMs = unit * 3;
        const dueAt = Date.now() + delayMs;
        await queue.send(TOPIC, { body: body(), delayMs });
        const [message] = await queue.receive(TOPIC, now({ waitTimeMs: 10_000 }));
        const late = Date.now() - dueAt;
        assert.ok(message, 'received');
        assert.ok(late >= -5 && late <= dueWithinMs!, `received ${late} ms after its due time`);
      });

      itIf(dueWithinMs !== undefined)('redelivers to a waiting receiver within dueWithinMs of a nack delay or an expired visibility timeout', async function () {
        this.retries(LATENCY_RETRIES);
        await queue.send(TOPIC, { body: body() });
        const [first] = await receiveAll(1);
        const nackDueAt = Date.now() + unit * 2;
        await queue.nack(TOPIC, first.receipt, unit * 2);
        const [second] = await queue.receive(TOPIC, now({ waitTimeMs: 10_000, visibilityTimeoutMs: unit * 2 }));
        const nackLate = Date.now() - nackDueAt;
        assert.ok(second && nackLate <= dueWithinMs!, `after nack: ${nackLate} ms late`);

        const timeoutAt = Date.now() + unit * 2;
        const [third] = await queue.receive(TOPIC, now({ waitTimeMs: 10_000 }));
        const timeoutLate = Date.now() - timeoutAt;
        assert.equal(third?.receiveCount, 3);
        assert.ok(timeoutLate <= dueWithinMs!, `after a visibility timeout: ${timeoutLate} ms late`);
      });
    });

    describe('depth', function () {
      // An exact depth must be right at once; an approximate one (SQS attributes, Kafka lag) must
      // settle on the right numbers while nothing moves.
      const expectDepth = async (expected: { visible: number; delayed: number; inFlight: number }) => {
        if (queue.capabilities.exactDepth) {
          assert.deepEqual(await queue.depth(TOPIC), expected);
          return;
        }
        const deadline = Date.now() + 15_000;
        let last = await queue.depth(TOPIC);
        while (JSON.stringify(last) !== JSON.stringify(expected) && Date.now() < deadline) {
          await sleep(250);
          last = await queue.depth(TOPIC);
        }
        assert.deepEqual(last, expected, 'the approximate depth settled on the right numbers within 15 s');
      };

      it('counts visible, delayed and in-flight messages of the topic', async function () {
        this.timeout(60_000);
        await expectDepth({ visible: 0, delayed: 0, inFlight: 0 });
        await queue.sendBatch(TOPIC, [{ body: body() }, { body: body() }, { body: body() }]);
        await queue.send(TOPIC, { body: body(), delayMs: 60_000 });
        await queue.send('events', { body: body() });
        // Waits for it: a Kafka consumer under load may not have fetched the batch yet (CI saw a
        // zero-wait receive come back empty here).
        const [received] = await queue.receive(TOPIC, now({ maxMessages: 1, visibilityTimeoutMs: 60_000, waitTimeMs: 10_000 }));
        assert.ok(received, 'one of the three visible messages arrived within 10 s');
        await expectDepth({ visible: 2, delayed: 1, inFlight: 1 });
        await queue.ack(TOPIC, received.receipt);
        await expectDepth({ visible: 2, delayed: 1, inFlight: 0 });
      });
    });

    it('answers ping', async function () {
      await queue.ping();
    });
  });
}
