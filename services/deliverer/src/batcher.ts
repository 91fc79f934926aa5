import type { Subscription } from '@triggers/core/domain';
import type { DeliveryRecord } from '@triggers/core/ports';
import type { DetachedMessage, Span } from '@triggers/core/runtime';

interface Buffered {
  delivery: DeliveryRecord;
  message: DetachedMessage;
}

interface Buffer {
  subscription: Subscription;
  items: Buffered[];
  timer: NodeJS.Timeout;
  /** The span of the first item's message: the group's request continues its trace. */
  span?: Span;
}

/** How long a buffered item whose flush failed waits before its message is handed out again. */
const FAILED_FLUSH_RETRY_MS = 1000;

/**
 * Collects first attempts for subscriptions that ask for batching (`batch: {max_events,
 * window_ms}`) and hands each group to `flush` when it is full or its window has passed.
 *
 * A buffered item holds no consumer slot: its queue message is detached from the consumer and
 * stays in the queue, invisible, as the item's durable record. After the flush its message is
 * acked (the flush recorded the outcome, and a retry travels in a message of its own); if the
 * flush fails, the messages are released to come back. A crash leaves the messages in the queue,
 * handed out again once their holder is known dead, so a buffered delivery is never lost.
 */
export class Batcher {
  private readonly buffers = new Map<string, Buffer>();
  private readonly flushing = new Set<Promise<void>>();

  constructor(
    private readonly flush: (subscription: Subscription, deliveries: DeliveryRecord[], span?: Span) => Promise<void>,
    private readonly onFlushFailed: (subscription: Subscription, error: unknown) => void = () => undefined,
  ) {}

  /** Buffers one delivery whose message the caller detached from the consumer (`span`: the message's, passed on to the flush). */
  add(subscription: Subscription, delivery: DeliveryRecord, message: DetachedMessage, span?: Span): void {
    const batching = subscription.batching;
    if (!batching) throw new Error('Batcher.add needs a subscription with batching');
    let buffer = this.buffers.get(subscription.workflowId);
    if (!buffer) {
      const workflowId = subscription.workflowId;
      buffer = { subscription, items: [], timer: setTimeout(() => this.release(workflowId), batching.windowMs), span };
      this.buffers.set(workflowId, buffer);
    }
    buffer.items.push({ delivery, message });
    if (buffer.items.length >= batching.maxEvents) this.release(subscription.workflowId);
  }

  /** Deliveries buffered now, over every subscription. */
  get buffered(): number {
    let n = 0;
    for (const buffer of this.buffers.values()) n += buffer.items.length;
    return n;
  }

  /** Sends whatever is buffered now and waits for every flush, started before or now (on shutdown). */
  async flushAll(): Promise<void> {
    for (const workflowId of [...this.buffers.keys()]) this.release(workflowId);
    await Promise.all([...this.flushing]);
  }

  private release(workflowId: string): void {
    const buffer = this.buffers.get(workflowId);
    if (!buffer) return;
    this.buffers.delete(workflowId);
    clearTimeout(buffer.timer);
    const done: Promise<void> = this.send(buffer).finally(() => this.flushing.delete(done));
    this.flushing.add(done);
  }

  private async send(buffer: Buffer): Promise<void> {
    try {
      await this.flush(buffer.subscription, buffer.items.map((i) => i.delivery), buffer.span);
    } catch (error) {
      this.onFlushFailed(buffer.subscription, error);
      await Promise.all(buffer.items.map((i) => i.message.release(FAILED_FLUSH_RETRY_MS).catch(() => undefined)));
      return;
    }
    // A failed ack only means the message comes back; the deliverer then finds its attempt made.
    await Promise.all(buffer.items.map((i) => i.message.ack().catch(() => undefined)));
  }
}
