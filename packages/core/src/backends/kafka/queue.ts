import { randomUUID } from 'node:crypto';
import kafkajs from 'kafkajs';
import type { Admin, Kafka, LogEntry, Message, Producer } from 'kafkajs';
import { coerceError, DependencyError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { OutgoingMessage, Queue, QueueCapabilities, QueueDepth, ReceivedMessage, ReceiveOptions, Topic } from '../../ports/queue.ts';
import { DelayPump, type DelayRoute } from './delay-pump.ts';
import { toKafkaDependencyError, withKafka } from './errors.ts';
import { keyAdmission, type BufferedEntry } from './partition-buffer.ts';
import { groupTimingFor, TopicConsumer, type GroupTiming } from './topic-consumer.ts';
import { DELAY_TIERS, decodeMessage, delayGroup, encodeHeaders, parseBody, tierFor, topicNames, TOPICS, type Envelope, type TopicNames } from './topology.ts';

const { Kafka: KafkaClient, logLevel, Partitioners } = kafkajs;

export interface KafkaQueueOptions {
  brokers: string[];
  topicPrefix: string;
  /** A message received more than this many times goes to `<prefix>-<topic>-dlq` instead. */
  maxReceives: number;
  log: Logger;
  clientId?: string;
  /** Partitions of each main topic when this queue creates it. Default 6. */
  partitions?: number;
  /** Partitions of each delay-tier topic when created. Default 3. */
  delayPartitions?: number;
  /** Partitions of each dead-letter topic when created. Default 1. */
  deadLetterPartitions?: number;
  /** Replicas of the topics it creates; default -1, the broker's `default.replication.factor`. */
  replicationFactor?: number;
  /**
   * Hold back a message while an earlier message with its key (same partition) is in flight:
   * strict per-key processing order at the cost of per-key concurrency (and of the deliverer's
   * per-subscription batching). Default false: messages of one key are handed out in order but
   * may be processed side by side.
   */
  serializeKeys?: boolean;
  /** Fetching from a partition pauses while this many of its messages are held. Default: `DEFAULT_MAX_BUFFERED`. */
  maxBufferedPerPartition?: number;
  /** Consumer-group timing; the defaults suit production, tests shorten them. */
  timing?: Partial<GroupTiming>;
  /** Fetch wait of the delay consumer: how late after its due time a paused delay partition is read again. Default 200 ms. */
  delayPollMs?: number;
}

/**
 * Messages held per partition before fetching from it pauses. A `deliveries` message is a few ids,
 * and a subscription's backlog waits here while a receive's `keyRoom` leaves it (rather than going
 * round the delay topics): the more a partition holds, the longer a busy subscription's backlog
 * lets the other keys of its partition through. Events carry their payload: fewer.
 */
const DEFAULT_MAX_BUFFERED: Record<Topic, number> = { events: 1000, deliveries: 10_000 };
/** A member that vanishes without leaving (SIGKILL) loses its partitions after the session timeout. */
const DEFAULT_TIMING: GroupTiming = groupTimingFor(10_000);
/** How long past its waitTimeMs a receive waits for the receive marker of messages it could hand out (one offset commit). */
const MARKER_WAIT_MS = 5000;
/** Dead letters wait for a person: kept 30 days rather than the broker's default 7. */
const DEAD_LETTER_RETENTION_MS = 30 * 86_400_000;

/** kafkajs logs through pino; its ERROR lines are mostly transient (it retries), so they are warnings here. */
function logCreatorFor(log: Logger) {
  return () =>
    ({ namespace, level, log: entry }: LogEntry) => {
      const { message, timestamp: _timestamp, ...extra } = entry;
      const fields = { kafkajs: namespace, ...extra };
      if (level <= logLevel.WARN) log.warn(fields, `kafkajs: ${message}`);
      else if (level === logLevel.INFO) log.debug(fields, `kafkajs: ${message}`);
      else log.trace(fields, `kafkajs: ${message}`);
    };
}

/**
 * The Queue port on Apache Kafka (kafkajs).
 *
 * - Topics `<prefix>-events` and `<prefix>-deliveries`, keyed by the message key, so one key's
 *   messages share a partition and are handed out in order. One consumer group per topic
 *   (`<prefix>-<topic>-consumers`); a process joins it on its first `receive` of that topic.
 * - Offsets are committed only after processing: per partition, the first offset not yet acked
 *   (out-of-order acks are fine; only the contiguous prefix is committed).
 * - Visibility timeouts are kept in process: an unacked message is handed out again after its
 *   timeout with `receiveCount` + 1. After a crash or a rebalance Kafka itself redelivers the
 *   uncommitted range; receive counts go on from a receive marker stored in the metadata of the
 *   committed offset (`receive-marker.ts`), written before messages are handed out (one commit per
 *   fetched batch). A range whose owners died holding it about `maxReceives / 2` times is handed out one
 *   message at a time, so a message that kills its consumer is dead-lettered after `maxReceives`
 *   crashes and the messages in flight with it are not.
 * - `nack(delay)` and delayed sends go through delay-tier topics (`<prefix>-<topic>-delay-1s`
 *   ... `-1h`) drained by the `<prefix>-delay-consumers` group, which re-publishes each message
 *   when due; a main-topic partition is never held up by a delay.
 * - After `maxReceives` a message goes to `<prefix>-<topic>-dlq` (receive count in a header).
 * - `depth` comes from consumer lag, so it is not exact.
 * - `receive` honours `skipKeys` and `keyRoom` (`capabilities.skipKeys`): a message of a key
 *   without room stays in its partition's buffer, visible and in order, costing no write. Its
 *   offset is not committed until it is settled, so the buffer (`maxBufferedPerPartition`) bounds
 *   how far past a held key's first message the rest of its partition is read.
 */
export class KafkaQueue implements Queue {
  readonly kind = 'kafka';
  readonly capabilities: QueueCapabilities = { maxNativeDelayMs: Number.MAX_SAFE_INTEGER, deadLetter: true, exactDepth: false, skipKeys: true };

  private readonly maxReceives: number;
  private readonly names: Record<Topic, TopicNames>;
  private readonly timing: GroupTiming;
  private readonly consumers = new Map<Topic, Promise<TopicConsumer>>();
  private readonly started = new Map<Topic, TopicConsumer>();
  private pump: Promise<DelayPump> | undefined;
  private runningPump: DelayPump | undefined;
  private closed = false;

  private constructor(
    private readonly settings: KafkaQueueOptions,
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    private readonly producer: Producer,
  ) {
    this.maxReceives = settings.maxReceives;
    this.names = { events: topicNames(settings.topicPrefix, 'events'), deliveries: topicNames(settings.topicPrefix, 'deliveries') };
    this.timing = { ...DEFAULT_TIMING, ...settings.timing };
  }

  /** Connects, creates the topics that are missing, and returns the queue. */
  static async open(settings: KafkaQueueOptions): Promise<KafkaQueue> {
    if (!Number.isInteger(settings.maxReceives) || settings.maxReceives < 1) throw new RangeError('maxReceives must be a whole number >= 1');
    if (settings.brokers.length === 0) throw new RangeError('brokers must name at least one broker');
    const kafka = new KafkaClient({
      clientId: settings.clientId ?? 'triggers',
      brokers: settings.brokers,
      logLevel: logLevel.WARN,
      logCreator: logCreatorFor(settings.log),
      connectionTimeout: 3000,
      retry: { initialRetryTime: 100, maxRetryTime: 2000, retries: 5 },
    });
    const admin = kafka.admin();
    const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    try {
      await withKafka('connecting', () => admin.connect());
      const topics = topicsToCreate(settings);
      await withKafka('creating topics', () => admin.createTopics({ topics, waitForLeaders: false }));
      await withKafka('waiting for the topics', () => untilLeadersServe(() => Promise.all(topics.map((t) => admin.fetchTopicOffsets(t.topic)))));
      await withKafka('connecting a producer', () => producer.connect());
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
      throw error;
    }
    return new KafkaQueue(settings, kafka, admin, producer);
  }

  async send(topic: Topic, message: OutgoingMessage): Promise<void> {
    await this.sendBatch(topic, [message]);
  }

  async sendBatch(topic: Topic, messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    this.assertOpen();
    const now = Date.now();
    const byTopic = new Map<string, Message[]>();
    let delayed = false;
    for (const message of messages) {
      const delayMs = Math.max(0, message.delayMs ?? 0);
      const envelope: Envelope = { id: randomUUID(), key: message.key ?? null, value: JSON.stringify(message.body ?? null), enqueuedAt: now, receives: 0 };
      if (delayMs > 0) delayed = true;
      const [target, copy] = delayMs > 0 ? [this.delayTopic(topic, delayMs), { ...envelope, dueAt: now + delayMs }] : [this.names[topic].main, envelope];
      const list = byTopic.get(target) ?? [];
      list.push(toKafkaMessage(copy));
      byTopic.set(target, list);
    }
    await withKafka('sending messages', () => this.producer.sendBatch({ topicMessages: [...byTopic].map(([name, list]) => ({ topic: name, messages: list })) }));
    if (delayed) this.ensureDelayPump();
  }

  async receive<T = unknown>(topic: Topic, options: ReceiveOptions): Promise<ReceivedMessage<T>[]> {
    this.assertOpen();
    const deadline = Date.now() + Math.max(0, options.waitTimeMs);
    const consumer = await this.consumerFor(topic);
    this.ensureDelayPump();
    for (;;) {
      if (this.closed) return [];
      const now = Date.now();
      const admit = keyAdmission(options.skipKeys, options.keyRoom);
      const taken = consumer.take(now, Math.max(0, Math.floor(options.maxMessages)), options.visibilityTimeoutMs, this.maxReceives, admit);
      if (taken.deadLetter.length > 0) {
        await this.deadLetter(topic, consumer, taken.deadLetter.map((entry) => ({ entry, receipt: null })), taken.deliver.length === 0);
      }
      if (taken.deliver.length > 0) return taken.deliver as ReceivedMessage<T>[];
      if (taken.deadLetter.length > 0) continue;
      const remaining = deadline - Date.now();
      if (taken.marking) {
        // Messages wait for the receive marker being written: as good as visible, so worth a commit's wait past waitTimeMs.
        const markerWait = Math.max(remaining, deadline + MARKER_WAIT_MS - Date.now());
        if (markerWait <= 0) return [];
        await consumer.waitForChange(markerWait);
        continue;
      }
      if (remaining <= 0) return [];
      const untilVisible = taken.nextVisibleAt === undefined ? remaining : taken.nextVisibleAt - Date.now();
      await consumer.waitForChange(Math.min(remaining, Math.max(1, untilVisible)));
    }
  }

  async ack(topic: Topic, receipt: string): Promise<void> {
    this.started.get(topic)?.ack(receipt);
  }

  async nack(topic: Topic, receipt: string, delayMs: number): Promise<void> {
    const consumer = this.started.get(topic);
    if (!consumer) return;
    const delay = Math.max(0, delayMs);
    if (delay === 0) {
      consumer.release(receipt);
      return;
    }
    const entry = consumer.beginMove(receipt);
    if (!entry) return;
    // Received maxReceives times already: it would be dead-lettered when due, so it goes now.
    if (entry.receives >= this.maxReceives) {
      await this.deadLetter(topic, consumer, [{ entry, receipt }], true);
      return;
    }
    const dueAt = Date.now() + delay;
    try {
      await this.producer.send({ topic: this.delayTopic(topic, delay), messages: [toKafkaMessage({ ...entry.envelope, receives: entry.receives, dueAt })] });
    } catch (thrown) {
      consumer.abortMove(entry, receipt, Date.now());
      throw toKafkaDependencyError(thrown, 'delaying a message');
    }
    consumer.finishMove(entry);
    this.ensureDelayPump();
  }

  async extendVisibility(topic: Topic, receipt: string, visibilityTimeoutMs: number): Promise<void> {
    this.started.get(topic)?.extend(receipt, visibilityTimeoutMs);
  }

  /**
   * The oldest `limit` dead letters of the topic, read with a throwaway consumer group (kafkajs has
   * no group-less reads). Their receipts are inert: Kafka cannot delete single messages.
   */
  async readDeadLetters<T = unknown>(topic: Topic, limit: number): Promise<ReceivedMessage<T>[]> {
    this.assertOpen();
    const wanted = Math.max(0, Math.floor(limit));
    if (wanted === 0) return [];
    const name = this.names[topic].deadLetter;
    const ends = await withKafka('reading dead-letter offsets', () => untilLeadersServe(() => this.admin.fetchTopicOffsets(name), 2000));
    const pending = new Map(ends.filter((end) => Number(end.high) > Number(end.low)).map((end) => [end.partition, Number(end.high)]));
    if (pending.size === 0) return [];
    const groupId = `${this.settings.topicPrefix}-dlq-reader-${randomUUID()}`;
    const reader = this.kafka.consumer({
      groupId,
      sessionTimeout: this.timing.sessionTimeoutMs,
      heartbeatInterval: this.timing.heartbeatIntervalMs,
      rebalanceTimeout: this.timing.rebalanceTimeoutMs,
      maxWaitTimeInMs: Math.min(this.timing.maxWaitTimeMs, 250),
      allowAutoTopicCreation: false,
    });
    const read: { at: number; message: ReceivedMessage<T> }[] = [];
    const perPartition = new Map<number, number>();
    try {
      await withKafka('reading dead letters', async () => {
        await reader.connect();
        await reader.subscribe({ topics: [name], fromBeginning: true });
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`timed out reading ${name}`)), 30_000);
          reader
            .run({
              autoCommit: false,
              eachBatch: async ({ batch, pause }) => {
                const high = pending.get(batch.partition);
                if (high === undefined) return;
                let count = perPartition.get(batch.partition) ?? 0;
                for (const message of batch.messages) {
                  if (count >= wanted || Number(message.offset) >= high) break;
                  const envelope = decodeMessage(message, name, batch.partition);
                  read.push({
                    at: envelope.deadLetteredAt ?? Number(message.timestamp),
                    message: {
                      id: envelope.id,
                      receipt: `dead-letter.${batch.partition}.${message.offset}`,
                      body: parseBody(envelope.value) as T,
                      receiveCount: envelope.receives,
                      enqueuedAt: envelope.enqueuedAt,
                    },
                  });
                  count++;
                }
                perPartition.set(batch.partition, count);
                if (count >= wanted || Number(batch.lastOffset()) + 1 >= high) {
                  pause();
                  pending.delete(batch.partition);
                  if (pending.size === 0) {
                    clearTimeout(timer);
                    resolve();
                  }
                }
              },
            })
            .catch(reject);
        });
      });
    } finally {
      await reader.disconnect().catch(() => undefined);
      await this.admin.deleteGroups([groupId]).catch(() => undefined);
    }
    return read
      .sort((a, b) => a.at - b.at)
      .slice(0, wanted)
      .map((r) => r.message);
  }

  /**
   * From consumer lag: `visible` is the main topic's uncommitted messages less what this process
   * holds in flight or has settled but not committed yet; `delayed` is the lag of the topic's delay
   * tiers; `inFlight` counts this process's only.
   */
  async depth(topic: Topic): Promise<QueueDepth> {
    this.assertOpen();
    const names = this.names[topic];
    const [mainLag, delayed] = await withKafka('measuring queue depth', () =>
      untilLeadersServe(() => Promise.all([this.lag(names.group, [names.main]), this.lag(delayGroup(this.settings.topicPrefix), names.delay)]), 2000),
    );
    const local = this.started.get(topic)?.counts() ?? { inFlight: 0, settled: 0 };
    return { visible: Math.max(0, mainLag - local.inFlight - local.settled), delayed, inFlight: local.inFlight };
  }

  /**
   * The messages the `-dlq` topic retains (high less low watermark per partition): nothing
   * consumes it, so this is what was dead-lettered within the topic's retention.
   */
  async deadLetterDepth(topic: Topic): Promise<number> {
    this.assertOpen();
    const name = this.names[topic].deadLetter;
    const ends = await withKafka('counting dead letters', () => untilLeadersServe(() => this.admin.fetchTopicOffsets(name), 2000));
    return ends.reduce((sum, end) => sum + Math.max(0, Number(end.high) - Number(end.low)), 0);
  }

  async ping(): Promise<void> {
    this.assertOpen();
    await withKafka('ping', () => this.admin.describeCluster());
  }

  /** Commits what was acked, leaves the consumer groups and disconnects; waiting receivers return empty-handed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const consumers = await Promise.all([...this.consumers.values()].map((p) => p.catch(() => undefined)));
    const pump = await this.pump?.catch(() => undefined);
    await Promise.all([...consumers.map((c) => c?.stop()), pump?.stop()]);
    await this.producer.disconnect().catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
  }

  /**
   * Joins the consumer groups of `topics` (and the delay consumers) now rather than on the first
   * `receive`, and waits until each has its partitions. For tests and warm starts.
   */
  async startConsuming(topics: Topic[], timeoutMs = 30_000): Promise<void> {
    this.assertOpen();
    const consumers = await Promise.all(topics.map((topic) => this.consumerFor(topic)));
    this.ensureDelayPump();
    const pump = await this.pump!;
    await withTimeout(Promise.all([...consumers.map((c) => c.joined), pump.joined]), timeoutMs, 'joining the consumer groups');
  }

  /** The partitions of the topic this process consumes now (empty before its first receive). */
  assignedPartitions(topic: Topic): number[] {
    return this.started.get(topic)?.partitions ?? [];
  }

  /** Topic names, for tests and tooling. */
  topicNames(topic: Topic): TopicNames {
    return this.names[topic];
  }

  private assertOpen(): void {
    if (this.closed) throw new DependencyError('kafka', 'the queue is closed', { retryable: false });
  }

  private delayTopic(topic: Topic, delayMs: number): string {
    return this.names[topic].delay[DELAY_TIERS.indexOf(tierFor(delayMs))];
  }

  private async consumerFor(topic: Topic): Promise<TopicConsumer> {
    const existing = this.started.get(topic);
    if (existing?.failure) {
      this.started.delete(topic);
      this.consumers.delete(topic);
      await existing.stop();
    }
    let starting = this.consumers.get(topic);
    if (!starting) {
      const names = this.names[topic];
      const consumer = new TopicConsumer({
        kafka: this.kafka,
        topic: names.main,
        groupId: names.group,
        log: this.settings.log,
        timing: this.timing,
        maxBufferedPerPartition: this.settings.maxBufferedPerPartition ?? DEFAULT_MAX_BUFFERED[topic],
        serializeKeys: this.settings.serializeKeys ?? false,
        readCommitted: (partition) => this.readCommitted(names.group, names.main, partition),
        narrowAfterReceives: narrowAfter(this.maxReceives),
      });
      starting = withKafka(`joining ${names.group}`, () => consumer.start()).then(
        () => {
          this.started.set(topic, consumer);
          return consumer;
        },
        async (error: unknown) => {
          this.consumers.delete(topic);
          await consumer.stop();
          throw error;
        },
      );
      this.consumers.set(topic, starting);
    }
    return starting;
  }

  /** Starts the delay consumers in the background; a failure is logged and retried on the next call. */
  private ensureDelayPump(): void {
    if (this.closed) return;
    const running = this.runningPump;
    if (running?.failure) {
      // kafkajs gave up on it: replace it.
      this.pump = undefined;
      this.runningPump = undefined;
      void running.stop();
    }
    if (this.pump) return;
    const routes = new Map<string, DelayRoute>();
    for (const topic of TOPICS) {
      const names = this.names[topic];
      const tierTopics = new Map(DELAY_TIERS.map((tier, i) => [tier, names.delay[i]]));
      DELAY_TIERS.forEach((tier, i) => routes.set(names.delay[i], { target: names.main, tier, tierTopics }));
    }
    const pump = new DelayPump({
      kafka: this.kafka,
      producer: this.producer,
      groupId: delayGroup(this.settings.topicPrefix),
      routes,
      log: this.settings.log,
      timing: { ...this.timing, maxWaitTimeMs: this.settings.delayPollMs ?? 200 },
    });
    this.pump = pump.start().then(
      () => {
        this.runningPump = pump;
        return pump;
      },
      async (thrown: unknown) => {
        this.settings.log.warn({ err: coerceError(thrown) }, 'Failed to start the Kafka delay consumers; will retry');
        this.pump = undefined;
        await pump.stop();
        throw toKafkaDependencyError(thrown, 'starting the delay consumers');
      },
    );
    this.pump.catch(() => undefined);
  }

  /**
   * Writes entries to the dead-letter topic and settles them. On failure they go back (in flight
   * under their receipt, or visible again in a second) and, if `throwOnFailure`, the error is thrown.
   */
  private async deadLetter(topic: Topic, consumer: TopicConsumer, moves: { entry: BufferedEntry; receipt: string | null }[], throwOnFailure: boolean): Promise<void> {
    const now = Date.now();
    try {
      await this.producer.send({
        topic: this.names[topic].deadLetter,
        messages: moves.map(({ entry }) => toKafkaMessage({ ...entry.envelope, receives: entry.receives, dueAt: undefined, deadLetteredAt: now })),
      });
    } catch (thrown) {
      for (const { entry, receipt } of moves) consumer.abortMove(entry, receipt, now + 1000);
      const error = toKafkaDependencyError(thrown, 'dead-lettering messages');
      if (throwOnFailure) throw error;
      this.settings.log.warn({ err: error, topic }, 'Failed to dead-letter messages; will retry');
      return;
    }
    for (const { entry } of moves) consumer.finishMove(entry);
    this.settings.log.warn({ topic, count: moves.length }, 'Moved messages to the dead-letter topic');
  }

  /** The group's committed offset of one partition with its metadata; undefined if none is committed. */
  private async readCommitted(groupId: string, topic: string, partition: number): Promise<{ offset: number; metadata: string | null } | undefined> {
    const [result] = await withKafka('reading committed offsets', () => untilLeadersServe(() => this.admin.fetchOffsets({ groupId, topics: [topic] }), 5000));
    const found = result?.partitions.find((p) => p.partition === partition);
    const offset = Number(found?.offset ?? -1);
    return found && offset >= 0 ? { offset, metadata: found.metadata ?? null } : undefined;
  }

  /** Σ over partitions of (end offset − committed offset, or the start offset if none is committed). */
  private async lag(groupId: string, topics: string[]): Promise<number> {
    const [committed, ends] = await Promise.all([
      this.admin.fetchOffsets({ groupId, topics }),
      Promise.all(topics.map(async (topic) => ({ topic, offsets: await this.admin.fetchTopicOffsets(topic) }))),
    ]);
    let lag = 0;
    for (const { topic, offsets } of ends) {
      const groupOffsets = committed.find((c) => c.topic === topic)?.partitions ?? [];
      for (const end of offsets) {
        const done = Number(groupOffsets.find((p) => p.partition === end.partition)?.offset ?? -1);
        lag += Math.max(0, Number(end.high) - (done >= 0 ? done : Number(end.low)));
      }
    }
    return lag;
  }
}

/**
 * After how many receives by owners that died a range is handed out one message at a time: half of
 * `maxReceives`, so one crash (a deploy's kill) changes nothing, but at most `maxReceives - 1`, so a
 * message that was only in flight beside a poison one always has a receive left once it is handed
 * out on its own.
 */
function narrowAfter(maxReceives: number): number {
  return Math.max(1, Math.min(maxReceives - 1, Math.ceil(maxReceives / 2)));
}

function toKafkaMessage(envelope: Envelope): Message {
  return { key: envelope.key, value: envelope.value, headers: encodeHeaders(envelope) };
}

function topicsToCreate(settings: KafkaQueueOptions) {
  const replicationFactor = settings.replicationFactor ?? -1;
  return TOPICS.flatMap((topic) => {
    const names = topicNames(settings.topicPrefix, topic);
    return [
      { topic: names.main, numPartitions: settings.partitions ?? 6, replicationFactor },
      {
        topic: names.deadLetter,
        numPartitions: settings.deadLetterPartitions ?? 1,
        replicationFactor,
        configEntries: [{ name: 'retention.ms', value: String(DEAD_LETTER_RETENTION_MS) }],
      },
      ...names.delay.map((name) => ({ topic: name, numPartitions: settings.delayPartitions ?? 3, replicationFactor })),
    ];
  });
}

/** Errors of a partition whose leadership is still being set up (a topic just created, a broker restarting). */
const LEADERSHIP_ERRORS = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_FOR_PARTITION', 'NOT_LEADER_OR_FOLLOWER']);

/**
 * Repeats a read while partitions have no serving leader yet. After CreateTopics a broker answers
 * metadata and ListOffsets with these errors for a moment (longer on a busy machine), and kafkajs
 * does not retry all of them.
 */
async function untilLeadersServe<T>(read: () => Promise<T>, withinMs = 15_000): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (let pauseMs = 50; ; pauseMs = Math.min(500, pauseMs * 2)) {
    try {
      return await read();
    } catch (thrown) {
      if (!isLeadershipError(thrown) || Date.now() + pauseMs > deadline) throw thrown;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}

/** kafkajs wraps a protocol error in a retries-exceeded error when its own retries ran out. */
function isLeadershipError(thrown: unknown): boolean {
  for (let error = thrown, depth = 0; error && depth < 4; error = (error as { cause?: unknown }).cause, depth++) {
    const type = (error as { type?: unknown }).type;
    if (typeof type === 'string' && LEADERSHIP_ERRORS.has(type)) return true;
  }
  return false;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DependencyError('kafka', `${what} took longer than ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
