import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SetQueueAttributesCommand,
  type Message,
  type MessageAttributeValue,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { setTimeout as sleep } from 'node:timers/promises';
import { DependencyError } from '../../errors.ts';
import type { OutgoingMessage, Queue, QueueCapabilities, QueueDepth, ReceivedMessage, ReceiveOptions, Topic } from '../../ports/queue.ts';
import { awsErrorName, toAwsDependencyError } from '../aws.ts';

const TOPICS: readonly Topic[] = ['events', 'deliveries'];

/** SQS limits. */
const MAX_DELAY_S = 900;
const MAX_VISIBILITY_S = 43_200;
const MAX_WAIT_S = 20;
const MAX_BATCH_ENTRIES = 10;
const MAX_BATCH_BYTES = 250_000; // of 262,144, leaving room for attributes and ids
const RETENTION_S = 1_209_600; // 14 days, the most SQS keeps a message

/**
 * Message attributes this adapter sets. A delay beyond SQS's 15 minutes is carried as its due
 * time; every hop keeps the first message's id and enqueue time.
 */
const DUE_AT = 'triggers-due-at';
const FIRST_ID = 'triggers-id';
const ENQUEUED_AT = 'triggers-enqueued-at';

/** Receipts of dead letters carry this prefix, so `ack` deletes them from the dead-letter queue. */
const DEAD_LETTER_RECEIPT = 'dlq:';

/** SDK errors that mean "this receipt no longer names an in-flight message": no-ops for ack/nack/extend. */
const STALE_RECEIPT_ERRORS = new Set(['ReceiptHandleIsInvalid', 'InvalidParameterValue', 'MessageNotInflight', 'InvalidParameterValueException', 'InvalidReceiptHandle']);

interface TopicQueues {
  url: string;
  deadLetterUrl: string;
}

export interface SqsQueueSettings {
  /** Queues are `<prefix>-events`, `<prefix>-deliveries` and their `-dlq`s. */
  queuePrefix: string;
  maxReceives: number;
  /** The longest delay handed to SQS in one hop (at most, and by default, its 15 minutes); tests shorten it. */
  maxNativeDelayMs?: number;
}

function seconds(ms: number, max: number): number {
  return Math.min(max, Math.max(0, Math.ceil(ms / 1000)));
}

function numberAttribute(value: number): MessageAttributeValue {
  return { DataType: 'Number', StringValue: String(value) };
}

function stringAttribute(value: string): MessageAttributeValue {
  return { DataType: 'String', StringValue: value };
}

function attributeNumber(message: Message, name: string): number | undefined {
  const raw = message.MessageAttributes?.[name]?.StringValue;
  const value = raw === undefined ? NaN : Number(raw);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * The queue on Amazon SQS (standard queues; ElasticMQ in tests). One queue per topic plus a
 * dead-letter queue each, with a RedrivePolicy of `maxReceives`.
 *
 * - Delays up to 15 minutes are SQS's own `DelaySeconds`. A longer delay is sent with 15 minutes
 *   and its due time in a message attribute; a receiver that gets it early sends it again with
 *   the rest of the delay (at most 15 minutes a hop) and deletes the early copy, so a retry due in
 *   two hours takes eight hops. Each hop is a new SQS message received once, so hops do not count
 *   towards the dead-letter limit; the consumer sees `receiveCount` 1 when it is finally due.
 * - Times are whole seconds (rounded up): `capabilities.visibilityGranularityMs` is 1000.
 * - Standard queues do not keep order: `OutgoingMessage.key` is ignored.
 * - `nack` and `extendVisibility` use ChangeMessageVisibility, which SQS caps at 12 hours after
 *   the receive.
 * - A stale receipt is ignored where SQS reports it as one (ElasticMQ does); real SQS may still
 *   act on an older receipt of the same message.
 * - `readDeadLetters` peeks: it receives from the dead-letter queue and makes what it read
 *   visible again at once. `ack` with such a receipt deletes the dead letter.
 */
export class SqsQueue implements Queue {
  readonly kind = 'sqs';
  readonly capabilities: QueueCapabilities;

  private readonly abort = new AbortController();
  private closed = false;
  /** Whole seconds, at most SQS's 900. */
  private readonly maxDelaySeconds: number;

  private constructor(
    private readonly client: SQSClient,
    private readonly queues: Record<Topic, TopicQueues>,
    maxNativeDelayMs: number,
  ) {
    this.maxDelaySeconds = Math.max(1, Math.min(MAX_DELAY_S, Math.floor(maxNativeDelayMs / 1000)));
    this.capabilities = { maxNativeDelayMs: this.maxDelaySeconds * 1000, deadLetter: true, exactDepth: false, visibilityGranularityMs: 1000 };
  }

  /** Creates the four queues when missing (and sets their redrive policy), then returns the queue. */
  static async open(client: SQSClient, settings: SqsQueueSettings): Promise<SqsQueue> {
    if (!Number.isInteger(settings.maxReceives) || settings.maxReceives < 1) throw new RangeError('maxReceives must be a whole number >= 1');
    try {
      const entries = await Promise.all(
        TOPICS.map(async (topic): Promise<[Topic, TopicQueues]> => {
          const name = `${settings.queuePrefix}-${topic}`;
          const deadLetterUrl = await ensureQueue(client, `${name}-dlq`, { MessageRetentionPeriod: String(RETENTION_S) });
          const arn = (await client.send(new GetQueueAttributesCommand({ QueueUrl: deadLetterUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
          if (!arn) throw new Error(`queue ${name}-dlq has no ARN`);
          const url = await ensureQueue(client, name, {
            MessageRetentionPeriod: String(RETENTION_S),
            RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: settings.maxReceives }),
          });
          return [topic, { url, deadLetterUrl }];
        }),
      );
      return new SqsQueue(client, Object.fromEntries(entries) as Record<Topic, TopicQueues>, settings.maxNativeDelayMs ?? MAX_DELAY_S * 1000);
    } catch (thrown) {
      throw toAwsDependencyError('sqs', `setting up queues ${settings.queuePrefix}-*`, thrown);
    }
  }

  async send(topic: Topic, message: OutgoingMessage): Promise<void> {
    await this.sendBatch(topic, [message]);
  }

  async sendBatch(topic: Topic, messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const now = Date.now();
    const entries = messages.map((m, i) => this.entry(String(i), m, now));
    await this.run('sending messages', () => this.sendEntries(this.queues[topic].url, entries));
  }

  async receive<T = unknown>(topic: Topic, options: ReceiveOptions): Promise<ReceivedMessage<T>[]> {
    if (this.closed || options.maxMessages <= 0) return [];
    const deadline = Date.now() + Math.max(0, options.waitTimeMs);
    for (;;) {
      const remaining = deadline - Date.now();
      // A positive wait long-polls at least 1 s: SQS only samples some of its servers without one.
      const waitSeconds = options.waitTimeMs <= 0 ? 0 : Math.min(MAX_WAIT_S, Math.max(1, Math.round(remaining / 1000)));
      let messages: Message[];
      try {
        ({ Messages: messages = [] } = await this.client.send(
          new ReceiveMessageCommand({
            QueueUrl: this.queues[topic].url,
            MaxNumberOfMessages: Math.min(MAX_BATCH_ENTRIES, options.maxMessages),
            WaitTimeSeconds: waitSeconds,
            VisibilityTimeout: seconds(options.visibilityTimeoutMs, MAX_VISIBILITY_S),
            MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: this.abort.signal },
        ));
      } catch (thrown) {
        if (this.closed) return [];
        throw toAwsDependencyError('sqs', 'receiving messages', thrown);
      }
      const due: ReceivedMessage<T>[] = [];
      const early: Message[] = [];
      const now = Date.now();
      for (const message of messages) {
        const dueAt = attributeNumber(message, DUE_AT);
        if (dueAt !== undefined && dueAt > now) early.push(message);
        else due.push(this.toReceived<T>(message));
      }
      if (early.length > 0) await this.run('re-delaying messages', () => this.delayAgain(topic, early, now));
      // Only re-delayed copies came back: look again while the caller's wait lasts.
      if (due.length > 0 || early.length === 0 || Date.now() >= deadline || this.closed) return due;
    }
  }

  async ack(topic: Topic, receipt: string): Promise<void> {
    const { url, handle } = this.locate(topic, receipt);
    await this.ignoringStale('acknowledging a message', () => this.client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: handle })));
  }

  async nack(topic: Topic, receipt: string, delayMs: number): Promise<void> {
    await this.changeVisibility(topic, receipt, delayMs, 'releasing a message');
  }

  async extendVisibility(topic: Topic, receipt: string, visibilityTimeoutMs: number): Promise<void> {
    await this.changeVisibility(topic, receipt, visibilityTimeoutMs, 'extending a visibility timeout');
  }

  /** Peeks at up to `limit` dead letters, oldest first as far as SQS orders them. */
  async readDeadLetters<T = unknown>(topic: Topic, limit: number): Promise<ReceivedMessage<T>[]> {
    const max = Math.max(0, Math.floor(limit));
    const url = this.queues[topic].deadLetterUrl;
    const read = new Map<string, Message>();
    await this.run('reading dead letters', async () => {
      while (read.size < max) {
        const { Messages = [] } = await this.client.send(
          new ReceiveMessageCommand({
            QueueUrl: url,
            MaxNumberOfMessages: Math.min(MAX_BATCH_ENTRIES, max - read.size),
            WaitTimeSeconds: read.size === 0 ? 1 : 0,
            VisibilityTimeout: 30, // hidden only while this loop pages past them
            MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
            MessageAttributeNames: ['All'],
          }),
        );
        const fresh = Messages.filter((m) => !read.has(m.MessageId!));
        if (fresh.length === 0) break;
        for (const m of fresh) read.set(m.MessageId!, m);
      }
      const messages = [...read.values()];
      for (let i = 0; i < messages.length; i += MAX_BATCH_ENTRIES) {
        await this.client.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: url,
            Entries: messages.slice(i, i + MAX_BATCH_ENTRIES).map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
          }),
        );
      }
    });
    return [...read.values()]
      .map((m) => {
        const received = this.toReceived<T>(m);
        return { ...received, receipt: DEAD_LETTER_RECEIPT + received.receipt };
      })
      .sort((a, b) => a.enqueuedAt - b.enqueuedAt);
  }

  async depth(topic: Topic): Promise<QueueDepth> {
    return this.approximateDepth(this.queues[topic].url, 'measuring queue depth');
  }

  /** The dead-letter queue's approximate count, every state included (nothing consumes it). */
  async deadLetterDepth(topic: Topic): Promise<number> {
    const { visible, delayed, inFlight } = await this.approximateDepth(this.queues[topic].deadLetterUrl, 'counting dead letters');
    return visible + delayed + inFlight;
  }

  private async approximateDepth(queueUrl: string, action: string): Promise<QueueDepth> {
    const { Attributes = {} } = await this.run(action, () =>
      this.client.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesDelayed', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      ),
    );
    return {
      visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
      delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
      inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    };
  }

  async ping(): Promise<void> {
    await this.run('ping', () => this.client.send(new GetQueueAttributesCommand({ QueueUrl: this.queues.events.url, AttributeNames: ['QueueArn'] })));
  }

  /** Ends waiting receives (they return no messages) and closes the client. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    this.client.destroy();
  }

  private entry(id: string, message: OutgoingMessage, now: number): SendMessageBatchRequestEntry {
    const delayMs = Math.max(0, message.delayMs ?? 0);
    const long = delayMs > this.maxDelaySeconds * 1000;
    return {
      Id: id,
      MessageBody: JSON.stringify(message.body ?? null),
      DelaySeconds: seconds(delayMs, this.maxDelaySeconds),
      ...(long ? { MessageAttributes: { [DUE_AT]: numberAttribute(now + delayMs), [ENQUEUED_AT]: numberAttribute(now) } } : {}),
    };
  }

  /** Sends the next hop of each early message (the rest of its delay, at most 15 min) and deletes the early copy. */
  private async delayAgain(topic: Topic, early: Message[], now: number): Promise<void> {
    const url = this.queues[topic].url;
    const entries = early.map((m, i): SendMessageBatchRequestEntry => {
      const dueAt = attributeNumber(m, DUE_AT)!;
      return {
        Id: String(i),
        MessageBody: m.Body ?? 'null',
        DelaySeconds: seconds(dueAt - now, this.maxDelaySeconds),
        MessageAttributes: {
          [DUE_AT]: numberAttribute(dueAt),
          [ENQUEUED_AT]: numberAttribute(attributeNumber(m, ENQUEUED_AT) ?? Number(m.Attributes?.SentTimestamp ?? now)),
          [FIRST_ID]: stringAttribute(m.MessageAttributes?.[FIRST_ID]?.StringValue ?? m.MessageId!),
        },
      };
    });
    await this.sendEntries(url, entries);
    // A failed delete leaves a duplicate, which at-least-once consumers tolerate.
    await Promise.all(early.map((m) => this.client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle! })).catch(() => undefined)));
  }

  /** SendMessageBatch in chunks of 10 entries (and SQS's 256 KiB per call), retrying entries SQS failed for its own reasons. */
  private async sendEntries(url: string, entries: SendMessageBatchRequestEntry[]): Promise<void> {
    const chunks: SendMessageBatchRequestEntry[][] = [];
    let current: SendMessageBatchRequestEntry[] = [];
    let bytes = 0;
    for (const entry of entries) {
      const size = Buffer.byteLength(entry.MessageBody!) + 200;
      if (current.length > 0 && (current.length >= MAX_BATCH_ENTRIES || bytes + size > MAX_BATCH_BYTES)) {
        chunks.push(current);
        current = [];
        bytes = 0;
      }
      current.push(entry);
      bytes += size;
    }
    if (current.length > 0) chunks.push(current);

    let next = 0;
    const worker = async () => {
      while (next < chunks.length) {
        let pending = chunks[next++];
        for (let round = 1; ; round++) {
          const { Failed = [] } = await this.client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: pending }));
          if (Failed.length === 0) break;
          const senderFault = Failed.find((f) => f.SenderFault);
          if (senderFault) throw new DependencyError('sqs', `sending a message failed (${senderFault.Code}): ${senderFault.Message ?? ''}`, { retryable: false });
          if (round >= 5) throw new DependencyError('sqs', `sending ${Failed.length} messages failed (${Failed[0].Code}) after ${round} tries`);
          const failedIds = new Set(Failed.map((f) => f.Id));
          pending = pending.filter((e) => failedIds.has(e.Id));
          await sleep(Math.min(2000, 50 * 2 ** round) * (0.5 + Math.random()));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(4, chunks.length) }, worker));
  }

  private toReceived<T>(message: Message): ReceivedMessage<T> {
    return {
      id: message.MessageAttributes?.[FIRST_ID]?.StringValue ?? message.MessageId!,
      receipt: message.ReceiptHandle!,
      body: JSON.parse(message.Body ?? 'null') as T,
      receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1),
      enqueuedAt: attributeNumber(message, ENQUEUED_AT) ?? Number(message.Attributes?.SentTimestamp ?? Date.now()),
    };
  }

  private locate(topic: Topic, receipt: string): { url: string; handle: string } {
    return receipt.startsWith(DEAD_LETTER_RECEIPT)
      ? { url: this.queues[topic].deadLetterUrl, handle: receipt.slice(DEAD_LETTER_RECEIPT.length) }
      : { url: this.queues[topic].url, handle: receipt };
  }

  private async changeVisibility(topic: Topic, receipt: string, timeoutMs: number, action: string): Promise<void> {
    const { url, handle } = this.locate(topic, receipt);
    await this.ignoringStale(action, () =>
      this.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: handle, VisibilityTimeout: seconds(timeoutMs, MAX_VISIBILITY_S) })),
    );
  }

  private async ignoringStale(action: string, work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (thrown) {
      if (STALE_RECEIPT_ERRORS.has(awsErrorName(thrown))) return;
      throw toAwsDependencyError('sqs', action, thrown);
    }
  }

  private async run<T>(action: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (thrown) {
      throw toAwsDependencyError('sqs', action, thrown);
    }
  }
}

/** The queue's URL, creating it when missing; its attributes are set either way (a changed `maxReceives` applies). */
async function ensureQueue(client: SQSClient, name: string, attributes: Record<string, string>): Promise<string> {
  let url: string | undefined;
  try {
    url = (await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl;
  } catch (thrown) {
    // It exists with other attributes (another maxReceives): look it up and update them below.
    if (!['QueueNameExists', 'QueueAlreadyExists'].includes(awsErrorName(thrown))) throw thrown;
  }
  url ??= (await client.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
  if (!url) throw new Error(`queue ${name} has no URL`);
  await client.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }));
  return url;
}
