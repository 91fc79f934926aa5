/** The two queues of the data flow. */
export type Topic = 'events' | 'deliveries';

export interface OutgoingMessage {
  /** JSON-serialisable. */
  body: unknown;
  /** Not visible to consumers before this many ms have passed. */
  delayMs?: number;
  /** Messages with one key keep their order where the backend supports it (Kafka partitions). */
  key?: string;
}

export interface ReceivedMessage<T = unknown> {
  id: string;
  /** Handle for ack/nack/extend; valid for this receive only. */
  receipt: string;
  body: T;
  /** 1 on first delivery; grows with every receive (including after nack or a visibility timeout). */
  receiveCount: number;
  enqueuedAt: number;
}

export interface ReceiveOptions {
  maxMessages: number;
  /** A received message is invisible to other consumers for this long unless acked or nacked. */
  visibilityTimeoutMs: number;
  /** Long-poll: wait up to this long for a first message. 0 returns at once. */
  waitTimeMs: number;
  /**
   * With `capabilities.skipKeys`: messages with one of these keys are left in the queue, visible,
   * for a later receive (a consumer whose work for that key is at its limit takes others first).
   * Ignored by other backends.
   */
  skipKeys?: readonly string[];
  /**
   * With `capabilities.skipKeys`: at most `perKey` messages of one key in this receive, and at most
   * `keys.get(key)` for the keys listed (0 skips the key, as `skipKeys` does). A consumer with a
   * per-key limit receives no more of a key's messages than it has room for, so the rest wait in
   * the queue, visible and in order, instead of being received only to be put back. Messages
   * without a key are not limited. Ignored by other backends.
   */
  keyRoom?: KeyRoom;
}

export interface KeyRoom {
  perKey: number;
  keys: ReadonlyMap<string, number>;
}

export interface QueueCapabilities {
  /** The longest delay `send` accepts in one go; adapters re-delay beyond it themselves. */
  maxNativeDelayMs: number;
  deadLetter: boolean;
  /** Whether `depth` is exact. */
  exactDepth: boolean;
  /**
   * Visibility timeouts, nack delays and send delays are honoured in steps of this many ms,
   * rounded up (SQS counts whole seconds: 1000). Unset: to the millisecond.
   */
  visibilityGranularityMs?: number;
  /** `receive` honours `skipKeys` and `keyRoom`. */
  skipKeys?: boolean;
}

export interface QueueDepth {
  visible: number;
  delayed: number;
  inFlight: number;
}

/**
 * A durable at-least-once queue with visibility timeouts.
 *
 * Semantics (checked by the conformance suite):
 * - A message is delivered at least once; consumers must be idempotent.
 * - `receive` hides each returned message for `visibilityTimeoutMs`; if it is neither acked nor
 *   nacked by then, it becomes visible again with `receiveCount` + 1.
 * - `ack` deletes the message; acking twice or with a stale receipt is a no-op.
 * - `nack(receipt, delayMs)` makes the message visible again after `delayMs`.
 * - A message received more than `maxReceives` times (adapter setting) moves to the topic's
 *   dead-letter queue instead of being delivered again; `readDeadLetters` lists them without
 *   consuming them; where the backend can delete one (SQLite, SQS; not Kafka's log), `ack` with
 *   the receipt it gave purges that dead letter.
 * - Backend failures throw `DependencyError`.
 */
export interface Queue {
  readonly kind: string;
  readonly capabilities: QueueCapabilities;
  send(topic: Topic, message: OutgoingMessage): Promise<void>;
  sendBatch(topic: Topic, messages: OutgoingMessage[]): Promise<void>;
  receive<T = unknown>(topic: Topic, options: ReceiveOptions): Promise<ReceivedMessage<T>[]>;
  ack(topic: Topic, receipt: string): Promise<void>;
  /**
   * Where the queue shares a database with the stores (embedded SQLite): acks the message in the
   * same transaction as the store writes `write` submits before its first `await` (one store
   * call), so the ack commits only with them, and both cost one write. Resolves with `write`'s
   * result; rejects, the message unacked, when they fail. Without it, callers ack after `write`.
   */
  ackWith?<T>(topic: Topic, receipt: string, write: () => Promise<T>): Promise<T>;
  nack(topic: Topic, receipt: string, delayMs: number): Promise<void>;
  extendVisibility(topic: Topic, receipt: string, visibilityTimeoutMs: number): Promise<void>;
  readDeadLetters<T = unknown>(topic: Topic, limit: number): Promise<ReceivedMessage<T>[]>;
  depth(topic: Topic): Promise<QueueDepth>;
  /**
   * How many messages the topic's dead-letter queue holds (0 without `capabilities.deadLetter`).
   * Approximate unless `exactDepth`; cheap enough to read on every metrics scrape (a count, not a read).
   */
  deadLetterDepth(topic: Topic): Promise<number>;
  ping(): Promise<void>;
  /**
   * Releases the queue's connections. A `receive` waiting for messages returns `[]` at once
   * instead of waiting out its `waitTimeMs`; messages received and not yet acked become visible
   * again after their visibility timeout, as after a crash. Call it once; nothing after it.
   */
  close(): Promise<void>;
}
