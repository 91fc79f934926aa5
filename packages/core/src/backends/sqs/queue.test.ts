import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SendMessageBatchCommand,
  SetQueueAttributesCommand,
  SQSClient,
  type SendMessageBatchCommandInput,
} from '@aws-sdk/client-sqs';
import { queueConformance, requireEngine } from '@triggers/testkit';
import { DependencyError } from '../../errors.ts';
import type { ReceivedMessage, ReceiveOptions } from '../../ports/queue.ts';
import { createLogger } from '../../log.ts';
import { startConsumer } from '../../queue-consumer.ts';
import { awsClientConfig } from '../aws.ts';
import { openSqsQueue } from './index.ts';
import { SqsQueue } from './queue.ts';
import { SQS_ENGINE, deleteQueues, testQueuePrefix } from './testing.ts';

const receiveNow = (o: Partial<ReceiveOptions> = {}): ReceiveOptions => ({ maxMessages: 10, visibilityTimeoutMs: 30_000, waitTimeMs: 0, ...o });

const MAX_RECEIVES = 3;

describe('SQS queue', function () {
  describe('conformance, on ElasticMQ', function () {
    const engine = requireEngine(SQS_ENGINE);
    const prefixes: string[] = [];

    afterEach(async function () {
      // The suite closes each queue; its four SQS queues are removed here.
      for (const prefix of prefixes.splice(0)) await deleteQueues(engine.address, prefix);
    });

    queueConformance(
      async () => {
        // A client per queue: the suite closes the queue, which destroys its client.
        const client = new SQSClient(awsClientConfig({ endpoint: engine.address, region: 'us-east-1', requestTimeoutMs: 30_000 }));
        const queuePrefix = testQueuePrefix();
        prefixes.push(queuePrefix);
        return SqsQueue.open(client, { queuePrefix, maxReceives: MAX_RECEIVES });
      },
      {
        maxReceives: MAX_RECEIVES,
        wakeWithinMs: 500,
        dueWithinMs: 1000,
        closeWithinMs: 1000,
        purgesAckedDeadLetters: true,
        openUnreachable: () => openSqsQueue({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', queuePrefix: 'nowhere', maxReceives: MAX_RECEIVES }),
      },
    );
  });

  describe('specifics, on ElasticMQ', function () {
    const engine = requireEngine(SQS_ENGINE);
    const prefixes: string[] = [];
    const queues: SqsQueue[] = [];

    const open = async (options: { prefix?: string; maxReceives?: number; maxNativeDelayMs?: number } = {}) => {
      const queuePrefix = options.prefix ?? testQueuePrefix();
      prefixes.push(queuePrefix);
      const client = new SQSClient(awsClientConfig({ endpoint: engine.address, region: 'us-east-1', requestTimeoutMs: 30_000 }));
      const queue = await SqsQueue.open(client, { queuePrefix, maxReceives: options.maxReceives ?? 3, maxNativeDelayMs: options.maxNativeDelayMs });
      queues.push(queue);
      return queue;
    };

    afterEach(async function () {
      for (const queue of queues.splice(0)) await queue.close();
      for (const prefix of prefixes.splice(0)) await deleteQueues(engine.address, prefix);
    });

    it('a consumer keeps a message invisible while its handler runs past the visibility timeout, and a consumer that dies holding one loses it after that timeout', async function () {
      this.timeout(20_000);
      const VISIBILITY_MS = 2000;
      const queue = await open({ maxReceives: 5 });
      const log = createLogger({ level: 'silent', service: 'test' });
      // Work that takes 2.5 visibility timeouts: the consumer's extension (every half of it) keeps it.
      const seen: number[] = [];
      const slow = startConsumer<{ n: number }>({
        queue,
        topic: 'events',
        log,
        concurrency: 1,
        batchSize: 1,
        visibilityTimeoutMs: VISIBILITY_MS,
        waitTimeMs: 200,
        handle: async (message) => {
          seen.push(message.receiveCount);
          await sleep(VISIBILITY_MS * 2.5);
        },
      });
      const other = startConsumer<{ n: number }>({ queue, topic: 'events', log, concurrency: 1, batchSize: 1, visibilityTimeoutMs: VISIBILITY_MS, waitTimeMs: 200, handle: async (message) => void seen.push(message.receiveCount) });
      try {
        await queue.send('events', { body: { n: 1 } });
        const deadline = Date.now() + VISIBILITY_MS * 4;
        while (Date.now() < deadline && (await queue.depth('events')).visible + (await queue.depth('events')).inFlight > 0) await sleep(100);
        assert.deepEqual(seen, [1], 'received once: never handed to the other consumer while its handler ran');
      } finally {
        await Promise.all([slow.stop(), other.stop()]);
      }
      // A receiver that dies holding a message (received, never acked nor extended): it comes back
      // once its visibility timeout has run out, not before.
      await queue.send('events', { body: { n: 2 } });
      const [held] = await queue.receive('events', { maxMessages: 1, visibilityTimeoutMs: VISIBILITY_MS, waitTimeMs: 2000 });
      const heldAt = Date.now();
      assert.ok(held);
      const [again] = await queue.receive('events', { maxMessages: 1, visibilityTimeoutMs: VISIBILITY_MS, waitTimeMs: 0 });
      assert.equal(again, undefined, 'invisible while its timeout runs');
      let back: ReceivedMessage | undefined;
      while (!back && Date.now() - heldAt < VISIBILITY_MS * 3) [back] = await queue.receive('events', { maxMessages: 1, visibilityTimeoutMs: VISIBILITY_MS, waitTimeMs: 1000 });
      const resumedMs = Date.now() - heldAt;
      assert.ok(back, 'came back');
      assert.equal(back.receiveCount, 2);
      assert.ok(resumedMs >= VISIBILITY_MS - 100 && resumedMs < VISIBILITY_MS + 1500, `came back ${resumedMs} ms after its holder took it (timeout ${VISIBILITY_MS} ms)`);
      process.stdout.write(`      SQS: a dead holder's message came back ${resumedMs} ms after it was received (visibility timeout ${VISIBILITY_MS} ms)\n`);
    });

    it('creates <prefix>-events, <prefix>-deliveries and their -dlq queues with a redrive policy of maxReceives', async function () {
      const prefix = testQueuePrefix();
      await open({ prefix, maxReceives: 4 });
      const client = new SQSClient(awsClientConfig({ endpoint: engine.address, region: 'us-east-1', requestTimeoutMs: 10_000 }));
      try {
        for (const topic of ['events', 'deliveries']) {
          const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: `${prefix}-${topic}` }));
          const { QueueUrl: dlqUrl } = await client.send(new GetQueueUrlCommand({ QueueName: `${prefix}-${topic}-dlq` }));
          const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['RedrivePolicy'] }));
          const { Attributes: dlq } = await client.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
          const policy = JSON.parse(Attributes!.RedrivePolicy!) as { deadLetterTargetArn: string; maxReceiveCount: number | string };
          assert.equal(policy.deadLetterTargetArn, dlq!.QueueArn);
          assert.equal(Number(policy.maxReceiveCount), 4);
        }
      } finally {
        client.destroy();
      }
    });

    it('opens existing queues again and applies a changed maxReceives', async function () {
      const prefix = testQueuePrefix();
      const first = await open({ prefix, maxReceives: 4 });
      await first.send('events', { body: { kept: true } });
      const second = await open({ prefix, maxReceives: 2 });
      const [message] = await second.receive('events', receiveNow({ waitTimeMs: 1000 }));
      assert.deepEqual(message?.body, { kept: true }, 'the same queue, not a new one');
      await second.nack('events', message.receipt, 0);
      const [again] = await second.receive('events', receiveNow({ waitTimeMs: 1000 }));
      assert.equal(again?.receiveCount, 2);
      await second.nack('events', again.receipt, 0);
      assert.deepEqual(await second.receive('events', receiveNow({ waitTimeMs: 1000 })), [], 'dead-lettered after 2 receives');
      assert.equal((await second.readDeadLetters('events', 10)).length, 1);
    });

    it('re-delays a message due later than one SQS delay, keeping its id and enqueue time, and delivers it on time as a first receive', async function () {
      this.timeout(30_000);
      // One hop is 1 s here (SQS: 15 min), so a 3.5 s delay takes four hops.
      const queue = await open({ maxNativeDelayMs: 1000 });
      assert.equal(queue.capabilities.maxNativeDelayMs, 1000);
      const sentAt = Date.now();
      await queue.send('deliveries', { body: { late: true }, delayMs: 3500 });
      const received = [];
      while (received.length === 0 && Date.now() - sentAt < 15_000) {
        received.push(...(await queue.receive('deliveries', receiveNow({ waitTimeMs: 1000 }))));
      }
      const [message] = received;
      assert.ok(message, 'delivered');
      assert.ok(Date.now() - sentAt >= 3500, `not before its due time (${Date.now() - sentAt} ms)`);
      assert.deepEqual(message.body, { late: true });
      assert.equal(message.receiveCount, 1, 'the hops are not receives');
      assert.ok(Math.abs(message.enqueuedAt - sentAt) < 1000, 'enqueuedAt is the first send');
      await queue.nack('deliveries', message.receipt, 0);
      const [again] = await queue.receive('deliveries', receiveNow({ waitTimeMs: 2000 }));
      assert.equal(again?.id, message.id, 'one id across redeliveries');
      assert.equal(again?.receiveCount, 2);
    });

    it('reports approximate depth: visible, delayed and in flight', async function () {
      const queue = await open();
      await queue.sendBatch('deliveries', [{ body: 1 }, { body: 2 }, { body: 3 }]);
      await queue.send('deliveries', { body: 4, delayMs: 60_000 });
      const [received] = await queue.receive('deliveries', receiveNow({ maxMessages: 1, waitTimeMs: 1000 }));
      assert.ok(received);
      let depth = await queue.depth('deliveries');
      for (let i = 0; i < 20 && JSON.stringify(depth) !== JSON.stringify({ visible: 2, delayed: 1, inFlight: 1 }); i++) {
        await sleep(250);
        depth = await queue.depth('deliveries');
      }
      assert.deepEqual(depth, { visible: 2, delayed: 1, inFlight: 1 });
    });

    it('sends a batch larger than ten messages, and bodies near SQS size limits, in several calls', async function () {
      const queue = await open();
      const big = 'x'.repeat(60_000);
      await queue.sendBatch('events', Array.from({ length: 23 }, (_, i) => ({ body: { i, big } })));
      const seen = new Set<number>();
      for (let round = 0; round < 20 && seen.size < 23; round++) {
        for (const m of await queue.receive<{ i: number; big: string }>('events', receiveNow({ waitTimeMs: 1000 }))) {
          assert.equal(m.body.big.length, 60_000);
          seen.add(m.body.i);
          await queue.ack('events', m.receipt);
        }
      }
      assert.equal(seen.size, 23);
    });

  });

  describe('specifics, without an engine', function () {
    it('retries the entries SQS failed for its own reasons, and gives up on a sender fault', async function () {
      const sent: string[][] = [];
      let failNext = 2;
      const client = {
        async send(command: unknown) {
          if (command instanceof CreateQueueCommand) return { QueueUrl: `http://sqs.local/${command.input.QueueName}` };
          if (command instanceof SetQueueAttributesCommand) return {};
          if (command instanceof GetQueueAttributesCommand) return { Attributes: { QueueArn: 'arn:aws:sqs:local:0:q' } };
          if (command instanceof SendMessageBatchCommand) {
            const input = command.input as SendMessageBatchCommandInput;
            const ids = input.Entries!.map((e) => e.Id!);
            sent.push(ids);
            const body = (id: string) => input.Entries!.find((e) => e.Id === id)!.MessageBody!;
            const senderFaults = ids.filter((id) => body(id).includes('invalid'));
            if (senderFaults.length > 0) return { Failed: senderFaults.map((Id) => ({ Id, Code: 'InvalidMessageContents', SenderFault: true })) };
            if (failNext-- > 0) return { Failed: [{ Id: ids[0], Code: 'InternalError', SenderFault: false }] };
            return { Successful: ids.map((Id) => ({ Id })) };
          }
          throw new Error(`unexpected ${String(command)}`);
        },
        destroy() {},
      } as unknown as SQSClient;
      const queue = await SqsQueue.open(client, { queuePrefix: 'fake', maxReceives: 3 });

      await queue.sendBatch('events', Array.from({ length: 12 }, (_, i) => ({ body: { i } })));
      const first = sent.slice(0, 2).map((ids) => ids.length).sort((a, b) => a - b);
      assert.deepEqual(first, [2, 10], 'chunks of at most ten');
      assert.equal(sent.length, 4, 'two retries of one failed entry each');
      assert.ok(sent.slice(2).every((ids) => ids.length === 1));

      await assert.rejects(queue.sendBatch('events', [{ body: 'invalid' }]), (error: unknown) => {
        assert.ok(error instanceof DependencyError);
        assert.equal(error.retryable, false);
        return true;
      });
    });
  });
});
