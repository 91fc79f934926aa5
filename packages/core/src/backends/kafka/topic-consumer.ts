import { randomBytes } from 'node:crypto';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { coerceError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { ReceivedMessage } from '../../ports/queue.ts';
import { PartitionBuffer, type BufferedEntry, type KeyAdmission } from './partition-buffer.ts';
import { formatMarker, parseMarker } from './receive-marker.ts';
import { decodeMessage, parseBody } from './topology.ts';

/** Consumer-group timing. kafkajs heartbeats between fetches, so `maxWaitTimeMs` bounds how late a rebalance is noticed. */
export interface GroupTiming {
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
  maxWaitTimeMs: number;
}

/**
 * The group timing for a session timeout (`TRIGGERS_KAFKA_SESSION_TIMEOUT_MS`). Heartbeats go every
 * third of it, at most every second: a live member learns of a rebalance only from a heartbeat's
 * answer, so a rarer heartbeat would add to every takeover. Members get 30 s (or the session
 * timeout, if longer) to rejoin during a rebalance; fetches wait at most 1 s.
 */
export function groupTimingFor(sessionTimeoutMs: number): GroupTiming {
  return {
    sessionTimeoutMs,
    heartbeatIntervalMs: Math.max(100, Math.min(1000, Math.floor(sessionTimeoutMs / 3))),
    rebalanceTimeoutMs: Math.max(30_000, sessionTimeoutMs),
    maxWaitTimeMs: 1000,
  };
}

/**
 * How long after a member dies without leaving (SIGKILL) its uncommitted messages are handed to a
 * live member at the latest: the coordinator waits out the dead member's session (counted from its
 * last heartbeat, so at most the session timeout after the kill); the live member hears of the
 * rebalance with its next heartbeat, which kafkajs sends between fetches (heartbeat interval plus a
 * fetch wait); then one JoinGroup/SyncGroup round and a fetch from the committed offset, budgeted
 * at 2 s.
 */
export function takeoverBoundMs(timing: GroupTiming): number {
  return timing.sessionTimeoutMs + timing.heartbeatIntervalMs + timing.maxWaitTimeMs + 2000;
}

export interface TopicConsumerOptions {
  kafka: Kafka;
  /** The Kafka topic name. */
  topic: string;
  groupId: string;
  log: Logger;
  timing: GroupTiming;
  /** Fetching from a partition pauses while this many of its messages are held. */
  maxBufferedPerPartition: number;
  /** Hold back a message while an earlier one with its key is unsettled. */
  serializeKeys: boolean;
  /** The group's committed offset of a partition and its metadata (where the receive marker is kept). */
  readCommitted(partition: number): Promise<{ offset: number; metadata: string | null } | undefined>;
  /** A range of messages received this often by owners that died is handed out one message at a time. */
  narrowAfterReceives: number;
}

export interface Taken {
  /** Messages handed out: each receive was counted in the partition's stored marker first. */
  deliver: ReceivedMessage[];
  /** Received more than maxReceives times: now `moving`, for the caller to dead-letter. */
  deadLetter: BufferedEntry[];
  /** Some could be handed out once the receive marker being written is stored (a change is notified then). */
  marking: boolean;
  nextVisibleAt: number | undefined;
}

/**
 * One main topic's consumer-group member. `consumer.run({ eachBatch })` feeds per-partition
 * buffers; `receive` takes from them and keeps visibility timeouts in process; acks settle
 * entries and a coalescing committer commits, per partition, the first offset not yet settled.
 * A rebalance drops the buffers of revoked partitions (their receipts stop working, Kafka hands
 * their uncommitted messages to the new owner) and keeps those of partitions this member keeps.
 */
export class TopicConsumer {
  private readonly consumer: Consumer;
  private readonly buffers = new Map<number, PartitionBuffer>();
  private readonly receipts = new Map<string, BufferedEntry>();
  private readonly waiters = new Set<() => void>();
  private assigned = new Set<number>();
  private memberId: string | undefined;
  private rotation = 0;
  private committing: Promise<void> | undefined;
  private commitAgain = false;
  private stopped = false;
  private markJoined!: () => void;
  /** Resolves once this member first joined its group and got its partitions. */
  readonly joined: Promise<void>;
  /** Set when kafkajs gave up on the consumer (a non-retriable crash): the queue replaces it. */
  failure: Error | undefined;

  constructor(private readonly options: TopicConsumerOptions) {
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

  get topic(): string {
    return this.options.topic;
  }

  /** The partitions this member holds since its last rebalance. */
  get partitions(): number[] {
    return [...this.assigned].sort((a, b) => a - b);
  }

  async start(): Promise<void> {
    const { GROUP_JOIN, CRASH } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, (event) => this.onGroupJoin(event.payload.memberId, event.payload.memberAssignment[this.topic] ?? []));
    this.consumer.on(CRASH, (event) => {
      const error = coerceError(event.payload.error);
      this.options.log.warn({ err: error, topic: this.topic, restart: event.payload.restart }, 'Kafka consumer crashed');
      if (!event.payload.restart) {
        this.failure = error;
        this.dropAll();
        this.notify();
      }
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    await this.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => this.onBatch(payload) });
  }

  /** Leaves the group after committing what was settled; waiting receivers return empty-handed. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.notify();
    while (this.committing) await this.committing;
    await this.commitSettled().catch((thrown) => {
      this.options.log.warn({ err: coerceError(thrown), topic: this.topic }, 'Failed to commit offsets on close');
    });
    await this.consumer.disconnect().catch(() => undefined);
    this.dropAll();
  }

  /**
   * After every (re)join. Under one member id, membership was continuous: a partition assigned
   * before and now was nobody else's in between, so its buffer, receipts and in-flight messages
   * stay (kafkajs fetches again from the committed offset; `append` skips what is held). A new
   * member id means this member was dropped from the group: everything it held is stale.
   */
  private onGroupJoin(memberId: string, partitions: number[]): void {
    if (memberId !== this.memberId) {
      this.dropAll();
      this.memberId = memberId;
    }
    const next = new Set(partitions);
    for (const partition of [...this.buffers.keys()]) if (!next.has(partition)) this.revoke(partition);
    this.assigned = next;
    // A restarted kafkajs consumer forgets its paused partitions: pause the full ones again.
    for (const buffer of this.buffers.values()) if (buffer.paused) this.pause(buffer);
    this.options.log.debug({ topic: this.topic, partitions }, 'Joined consumer group');
    this.markJoined();
    this.notify();
  }

  private async onBatch({ batch, resolveOffset, isStale }: EachBatchPayload): Promise<void> {
    const { partition } = batch;
    if (this.stopped || !this.assigned.has(partition) || isStale()) return;
    // Where kafkajs fetched from: the committed offset (or the earliest) on the first fetch after joining.
    const fetchedOffset = Number((batch as { fetchedOffset?: string }).fetchedOffset ?? batch.firstOffset() ?? batch.lastOffset());
    let buffer = this.buffers.get(partition);
    if (!buffer) {
      // Earlier owners' receives of the uncommitted messages, stored with the committed offset.
      const committed = await this.options.readCommitted(partition);
      if (this.stopped || !this.assigned.has(partition) || isStale() || this.buffers.has(partition)) return;
      const prior = committed?.offset === fetchedOffset ? parseMarker(committed.metadata, fetchedOffset) : null;
      if (prior) this.options.log.info({ topic: this.topic, partition, marker: prior }, 'Resuming a partition whose messages earlier owners received without settling');
      buffer = new PartitionBuffer(partition, fetchedOffset, prior, this.options.narrowAfterReceives);
      this.buffers.set(partition, buffer);
    }
    const messages = batch.messages.map((message) => ({ offset: Number(message.offset), envelope: decodeMessage(message, this.topic, partition) }));
    const added = buffer.append(messages, Number(batch.lastOffset()) + 1, Date.now());
    resolveOffset(batch.lastOffset());
    if (buffer.size >= this.options.maxBufferedPerPartition) this.pause(buffer);
    if (added > 0) this.notify();
    else if (buffer.commitPosition() > buffer.committed) this.scheduleCommit();
  }

  /**
   * Takes up to `limit` visible messages that `admit` lets through and hides them for
   * `visibilityTimeoutMs`. Messages that would exceed `maxReceives` are returned in `deadLetter`
   * instead, already marked `moving`.
   */
  take(now: number, limit: number, visibilityTimeoutMs: number, maxReceives: number, admit?: KeyAdmission): Taken {
    const candidates: BufferedEntry[] = [];
    let nextVisibleAt: number | undefined;
    const buffers = [...this.buffers.values()];
    const start = buffers.length > 0 ? this.rotation++ % buffers.length : 0;
    for (let i = 0; i < buffers.length && candidates.length < limit; i++) {
      const buffer = buffers[(start + i) % buffers.length];
      const result = buffer.collect(now, limit - candidates.length, this.options.serializeKeys, candidates, admit);
      if (result.nextVisibleAt !== undefined && (nextVisibleAt === undefined || result.nextVisibleAt < nextVisibleAt)) nextVisibleAt = result.nextVisibleAt;
    }
    const deliver: ReceivedMessage[] = [];
    const deadLetter: BufferedEntry[] = [];
    let marking = false;
    for (const entry of candidates) {
      if (entry.receives + 1 > maxReceives) {
        if (entry.receipt) this.receipts.delete(entry.receipt);
        entry.state = 'moving';
        entry.receipt = null;
        deadLetter.push(entry);
        continue;
      }
      const buffer = this.buffers.get(entry.partition)!;
      if (!buffer.covers(entry)) {
        // Not until the marker counting this receive is stored (the commit loop notifies).
        buffer.requestMarker(entry);
        marking = true;
        continue;
      }
      if (entry.receipt) this.receipts.delete(entry.receipt);
      buffer.countReceive(entry);
      entry.state = 'in-flight';
      entry.visibleAt = now + Math.max(0, visibilityTimeoutMs);
      entry.receipt = `${entry.partition}.${entry.offset}.${randomBytes(9).toString('base64url')}`;
      this.receipts.set(entry.receipt, entry);
      const { envelope } = entry;
      deliver.push({ id: envelope.id, receipt: entry.receipt, body: parseBody(envelope.value), receiveCount: entry.receives, enqueuedAt: envelope.enqueuedAt });
    }
    if (marking) this.scheduleCommit();
    return { deliver, deadLetter, marking, nextVisibleAt };
  }

  /** The in-flight entry a receipt names, if the receipt is current. */
  private inFlight(receipt: string): BufferedEntry | undefined {
    const entry = this.receipts.get(receipt);
    return entry && entry.receipt === receipt && entry.state === 'in-flight' ? entry : undefined;
  }

  ack(receipt: string): void {
    const entry = this.inFlight(receipt);
    if (!entry) return;
    this.receipts.delete(receipt);
    this.settle(entry);
  }

  /** Visible again at once, in its place (before later messages of its partition). */
  release(receipt: string): void {
    const entry = this.inFlight(receipt);
    if (!entry) return;
    this.receipts.delete(receipt);
    entry.receipt = null;
    entry.state = 'ready';
    entry.visibleAt = Date.now();
    this.notify();
  }

  extend(receipt: string, visibilityTimeoutMs: number): void {
    const entry = this.inFlight(receipt);
    if (entry) entry.visibleAt = Date.now() + Math.max(0, visibilityTimeoutMs);
  }

  /** Claims an in-flight entry to move it to another topic; `finishMove` or `abortMove` follows. */
  beginMove(receipt: string): BufferedEntry | undefined {
    const entry = this.inFlight(receipt);
    if (!entry) return undefined;
    this.receipts.delete(receipt);
    entry.state = 'moving';
    return entry;
  }

  /** The moved copy is written: the original is settled (a revoked entry stays dropped). */
  finishMove(entry: BufferedEntry): void {
    if (entry.state === 'moving') this.settle(entry);
  }

  /** Writing the copy failed: back in flight under its receipt (if it had one), so it times out as usual. */
  abortMove(entry: BufferedEntry, receipt: string | null, retryAt: number): void {
    if (entry.state !== 'moving') return;
    if (receipt) {
      entry.state = 'in-flight';
      entry.receipt = receipt;
      this.receipts.set(receipt, entry);
    } else {
      entry.state = 'ready';
      entry.receipt = null;
      entry.visibleAt = retryAt;
    }
  }

  private settle(entry: BufferedEntry): void {
    const buffer = this.buffers.get(entry.partition);
    if (!buffer) return;
    buffer.settle(entry);
    if (buffer.paused && buffer.size < this.options.maxBufferedPerPartition / 2) this.resume(buffer);
    this.scheduleCommit();
    if (this.options.serializeKeys) this.notify();
  }

  /** Resolves when something may have become available, or after `ms`. */
  waitForChange(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, ms));
      this.waiters.add(done);
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private pause(buffer: PartitionBuffer): void {
    buffer.paused = true;
    try {
      this.consumer.pause([{ topic: this.topic, partitions: [buffer.partition] }]);
    } catch {
      // Not running (restarting): onGroupJoin pauses it again.
    }
  }

  private resume(buffer: PartitionBuffer): void {
    buffer.paused = false;
    try {
      this.consumer.resume([{ topic: this.topic, partitions: [buffer.partition] }]);
    } catch {
      // Not running: a restarted consumer starts unpaused.
    }
  }

  /** Forgets a partition: its receipts stop working and its settled-but-uncommitted work is redone by its next owner. */
  private revoke(partition: number): void {
    const buffer = this.buffers.get(partition);
    if (!buffer) return;
    this.buffers.delete(partition);
    for (const entry of buffer.unsettled()) {
      if (entry.receipt) this.receipts.delete(entry.receipt);
      entry.receipt = null;
      entry.state = 'done';
    }
    if (buffer.paused) this.resume(buffer);
  }

  private dropAll(): void {
    for (const partition of [...this.buffers.keys()]) this.revoke(partition);
    this.assigned = new Set();
  }

  private scheduleCommit(): void {
    if (this.committing) {
      this.commitAgain = true;
      return;
    }
    this.committing = this.commitLoop().finally(() => (this.committing = undefined));
  }

  /** One commit at a time; acks that arrive meanwhile go into the next one. Failures retry with backoff. */
  private async commitLoop(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    let failures = 0;
    do {
      this.commitAgain = false;
      try {
        await this.commitSettled();
        failures = 0;
      } catch (thrown) {
        failures++;
        this.options.log.warn({ err: coerceError(thrown), topic: this.topic, failures }, 'Failed to commit offsets; will retry');
        if (this.stopped) return;
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 100 * 2 ** failures)));
        this.commitAgain = true;
      }
    } while (this.commitAgain && !this.stopped);
  }

  /**
   * Commits, for each owned partition whose first offset not yet settled moved or whose receivers
   * wait for a marker, that offset with the receive marker in its metadata (one write for both).
   */
  private async commitSettled(): Promise<void> {
    const pending = [...this.buffers.values()]
      .filter((buffer) => this.assigned.has(buffer.partition))
      .map((buffer) => ({ buffer, offset: buffer.commitPosition(), marker: buffer.markerToWrite(), marked: [...buffer.wanted] }))
      .filter(({ buffer, offset, marked }) => offset > buffer.committed || marked.length > 0);
    if (pending.length === 0) return;
    await this.consumer.commitOffsets(
      pending.map(({ buffer, offset, marker }) => ({ topic: this.topic, partition: buffer.partition, offset: String(offset), metadata: formatMarker(marker) })),
    );
    for (const { buffer, offset, marker, marked } of pending) {
      buffer.committed = Math.max(buffer.committed, offset);
      buffer.durable = marker;
      buffer.unwant(marked);
    }
    if (pending.some(({ marked }) => marked.length > 0)) this.notify();
  }

  /** Messages handed out and not settled, and settled ones whose offsets are not committed yet. */
  counts(): { inFlight: number; settled: number } {
    let inFlight = 0;
    let settled = 0;
    for (const buffer of this.buffers.values()) {
      const counts = buffer.counts();
      inFlight += counts.inFlight;
      // Settled ones below the commit position whose commit has not landed yet count too.
      settled += counts.settled + Math.max(0, buffer.commitPosition() - buffer.committed);
    }
    return { inFlight, settled };
  }
}
