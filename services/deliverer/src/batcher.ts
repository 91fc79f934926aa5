import type { Subscription } from '@triggers/core/domain';
import type { DeliveryRecord } from '@triggers/core/ports';

interface Waiting {
  delivery: DeliveryRecord;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface Buffer {
  subscription: Subscription;
  items: Waiting[];
  timer: NodeJS.Timeout;
}

/**
 * Collects first attempts for subscriptions that ask for batching (`batch: {max_events,
 * window_ms}`) and hands each group to `flush` when it is full or its window has passed. Each
 * caller's promise settles when its group was handled, so its queue message stays in flight (and
 * invisible, by the consumer's heartbeat) until then: a crash loses no buffered delivery.
 * A group is at most `max_events`, and in practice at most the deliverer's concurrency.
 */
export class Batcher {
  private readonly buffers = new Map<string, Buffer>();

  constructor(private readonly flush: (subscription: Subscription, deliveries: DeliveryRecord[]) => Promise<void>) {}

  add(subscription: Subscription, delivery: DeliveryRecord): Promise<void> {
    const batching = subscription.batching;
    if (!batching) throw new Error('Batcher.add needs a subscription with batching');
    return new Promise<void>((resolve, reject) => {
      let buffer = this.buffers.get(subscription.workflowId);
      if (!buffer) {
        const workflowId = subscription.workflowId;
        buffer = { subscription, items: [], timer: setTimeout(() => this.release(workflowId), batching.windowMs) };
        this.buffers.set(workflowId, buffer);
      }
      buffer.items.push({ delivery, resolve, reject });
      if (buffer.items.length >= batching.maxEvents) this.release(subscription.workflowId);
    });
  }

  private release(workflowId: string): void {
    const buffer = this.buffers.get(workflowId);
    if (!buffer) return;
    this.buffers.delete(workflowId);
    clearTimeout(buffer.timer);
    this.flush(buffer.subscription, buffer.items.map((i) => i.delivery)).then(
      () => buffer.items.forEach((i) => i.resolve()),
      (error) => buffer.items.forEach((i) => i.reject(error)),
    );
  }

  /** Sends whatever is buffered now (on shutdown). */
  releaseAll(): void {
    for (const workflowId of [...this.buffers.keys()]) this.release(workflowId);
  }
}
