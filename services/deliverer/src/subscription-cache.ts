import type { DeliveryRecord, MetadataStore } from '@triggers/core/ports';
import type { Clock, Subscription } from '@triggers/core/domain';

/**
 * How long a subscription read may serve first attempts. A change (disable, delete, new URL or
 * secret) reaches the deliveries already made before it within this much (docs/backends.md).
 */
export const SUBSCRIPTION_CACHE_MS = 1000;

/** Past this many subscriptions known, the expired reads are dropped. */
const MAX_ENTRIES = 10_000;

interface Entry {
  /** When the read started (epoch ms): every change answered before then is in it. */
  readAt: number;
  subscription: Subscription | null;
}

/**
 * The deliverer's subscription reads, shared by the first attempts of a backlog so a busy
 * subscription costs one read per SUBSCRIPTION_CACHE_MS instead of one per webhook.
 *
 * A read started at R serves a delivery only when
 * - it is the delivery's first attempt: a retry reads afresh, so disabling a subscription stops
 *   the retries under way at their next attempt;
 * - the delivery was made before R (`createdAt` < R): its event was accepted earlier still, so a
 *   change answered before the event was accepted is in the read (API.md: a change applies to
 *   every event accepted after the change's response), as in the matcher's cache;
 * - R is at most SUBSCRIPTION_CACHE_MS ago.
 * Concurrent misses of one subscription share one read when it started late enough for them.
 */
export class SubscriptionCache {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, { readAt: number; entry: Promise<Entry> }>();

  constructor(
    private readonly metadata: MetadataStore,
    private readonly clock: Clock,
    private readonly ttlMs = SUBSCRIPTION_CACHE_MS,
  ) {}

  /** The subscription of `delivery` (null when deleted), as fresh as the rules above ask. */
  async forDelivery(delivery: Pick<DeliveryRecord, 'customerId' | 'workflowId' | 'attemptsMade' | 'createdAt'>): Promise<Subscription | null> {
    const key = `${delivery.customerId}/${delivery.workflowId}`;
    if (delivery.attemptsMade > 0) return (await this.read(key, delivery)).subscription;
    const now = this.clock.now();
    const serves = (readAt: number) => readAt > delivery.createdAt && now - readAt <= this.ttlMs;
    const entry = this.entries.get(key);
    if (entry && serves(entry.readAt)) return entry.subscription;
    const pending = this.loading.get(key);
    if (pending && serves(pending.readAt)) return (await pending.entry).subscription;
    return (await this.read(key, delivery)).subscription;
  }

  /** Drops what this process knows of a subscription it changed itself (a 410 disabled it). */
  forget(customerId: string, workflowId: string): void {
    this.entries.delete(`${customerId}/${workflowId}`);
  }

  private dropExpired(): void {
    const now = this.clock.now();
    for (const [key, entry] of this.entries) if (now - entry.readAt > this.ttlMs) this.entries.delete(key);
  }

  private read(key: string, delivery: Pick<DeliveryRecord, 'customerId' | 'workflowId'>): Promise<Entry> {
    const readAt = this.clock.now();
    const entry = this.metadata.getSubscription(delivery.customerId, delivery.workflowId).then((subscription) => {
      const read: Entry = { readAt, subscription };
      // A read that started earlier and ends later must not replace a newer one.
      const latest = this.entries.get(key);
      if (!latest || latest.readAt <= readAt) this.entries.set(key, read);
      if (this.entries.size > MAX_ENTRIES) this.dropExpired();
      return read;
    });
    const loading = { readAt, entry };
    this.loading.set(key, loading);
    entry
      .finally(() => {
        if (this.loading.get(key) === loading) this.loading.delete(key);
      })
      .catch(() => undefined);
    return entry;
  }
}
