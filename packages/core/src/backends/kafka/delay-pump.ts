import type { Consumer, EachBatchPayload, Kafka, Message, Producer } from 'kafkajs';
import { coerceError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { GroupTiming } from './topic-consumer.ts';
import { decodeMessage, encodeHeaders, leavesTierAt, tierFor, type DelayTier, type Envelope } from './topology.ts';

export interface DelayRoute {
  /** The main topic the delayed messages are for. */
  target: string;
  tier: DelayTier;
  /** Delay-topic name per tier, to move a message to a shorter tier. */
  tierTopics: ReadonlyMap<DelayTier, string>;
}

export interface DelayPumpOptions {
  kafka: Kafka;
  producer: Producer;
  groupId: string;
  /** Delay-topic name → where its messages go. */
  routes: ReadonlyMap<string, DelayRoute>;
  log: Logger;
  timing: GroupTiming;
}

const RETRY_AFTER_FAILURE_MS = 1000;

/**
 * Moves messages out of the delay-tier topics when they come due. Per tier partition it routes
 * every message whose time has come (to its main topic when due, else to the tier for what is
 * left), commits past them, and pauses the partition until the next one's time: fetching stops,
 * nothing sleeps inside `eachBatch`, and the main topics are never held up.
 */
export class DelayPump {
  private readonly consumer: Consumer;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;
  private markJoined!: () => void;
  readonly joined: Promise<void>;
  failure: Error | undefined;

  constructor(private readonly options: DelayPumpOptions) {
    const { timing } = options;
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: timing.sessionTimeoutMs,
      heartbeatInterval: timing.heartbeatIntervalMs,
      rebalanceTimeout: timing.rebalanceTimeoutMs,
      maxWaitTimeInMs: timing.maxWaitTimeMs,
      allowAutoTopicCreation: false,
      retry: { restartOnFailure: async () => true },
    });
    this.joined = new Promise((resolve) => (this.markJoined = resolve));
  }

  async start(): Promise<void> {
    const { GROUP_JOIN, CRASH } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, () => this.markJoined());
    this.consumer.on(CRASH, (event) => {
      const error = coerceError(event.payload.error);
      this.options.log.warn({ err: error, restart: event.payload.restart }, 'Kafka delay consumer crashed');
      if (!event.payload.restart) this.failure = error;
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.options.routes.keys()], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await this.consumer.disconnect().catch(() => undefined);
  }

  private async onBatch({ batch, resolveOffset, pause, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const route = this.options.routes.get(batch.topic);
    if (!route || this.stopped) return;
    const now = Date.now();
    const due: { offset: string; envelope: Envelope }[] = [];
    let nextAt: number | undefined;
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) return;
      const envelope = decodeMessage(message, batch.topic, batch.partition);
      const dueAt = envelope.dueAt ?? now;
      const leavesAt = leavesTierAt(route.tier, Number(message.timestamp), dueAt);
      if (leavesAt > now) {
        nextAt = leavesAt;
        break;
      }
      due.push({ offset: message.offset, envelope });
    }

    if (due.length > 0) {
      try {
        await this.options.producer.sendBatch({ topicMessages: this.routeAll(route, due, now) });
      } catch (thrown) {
        this.options.log.warn({ err: coerceError(thrown), topic: batch.topic, partition: batch.partition }, 'Failed to move due messages out of a delay topic; will retry');
        this.pauseUntil(batch.topic, batch.partition, pause, Date.now() + RETRY_AFTER_FAILURE_MS);
        return;
      }
      const last = due[due.length - 1].offset;
      resolveOffset(last);
      await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(Number(last) + 1) }]).catch((thrown: unknown) => {
        // Moved but not committed: after a restart they are moved again (at-least-once).
        this.options.log.warn({ err: coerceError(thrown), topic: batch.topic, partition: batch.partition }, 'Failed to commit a delay topic');
      });
    }
    if (nextAt !== undefined) this.pauseUntil(batch.topic, batch.partition, pause, nextAt);
  }

  /** Due messages go to their main topic; the others to the tier for the time they have left. */
  private routeAll(route: DelayRoute, due: { envelope: Envelope }[], now: number): { topic: string; messages: Message[] }[] {
    const byTopic = new Map<string, Message[]>();
    for (const { envelope } of due) {
      const dueAt = envelope.dueAt ?? now;
      const remaining = dueAt - Date.now();
      const topic = remaining <= 0 ? route.target : route.tierTopics.get(tierFor(remaining))!;
      const copy: Envelope = { ...envelope, dueAt: remaining <= 0 ? undefined : dueAt };
      const list = byTopic.get(topic) ?? [];
      list.push({ key: envelope.key, value: envelope.value, headers: encodeHeaders(copy) });
      byTopic.set(topic, list);
    }
    return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
  }

  /** Stops fetching the partition until `at`; the unrouted messages are fetched again then. */
  private pauseUntil(topic: string, partition: number, pause: () => () => void, at: number): void {
    const resume = pause();
    const key = `${topic}/${partition}`;
    clearTimeout(this.timers.get(key));
    const timer = setTimeout(
      () => {
        this.timers.delete(key);
        if (!this.stopped) resume();
      },
      Math.max(0, at - Date.now()),
    );
    timer.unref();
    this.timers.set(key, timer);
  }
}
