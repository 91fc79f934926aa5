import type { MetadataStore } from '@triggers/core/ports';
import { compileSelector, type Subscription, type CompiledSelector, type Clock } from '@triggers/core/domain';
import type { Logger } from '@triggers/core/runtime';

export interface ActiveSubscription {
  subscription: Subscription;
  selector: CompiledSelector;
}

interface Entry {
  version: number;
  /** When the version was last confirmed current (epoch ms). */
  confirmedAt: number;
  subscriptions: ActiveSubscription[];
}

/**
 * Each customer's active subscriptions with their selectors compiled once.
 *
 * A subscription change applies to every event accepted after the change's response: an entry
 * confirmed at time C is used as is only for events accepted before C (the change, if any, had
 * committed before such an event was accepted… or after C, in which case the event was accepted
 * after C too). For a later event the customer's subscriptions version is read again first —
 * one small query per customer per batch, not a reload.
 */
export class SubscriptionCache {
  private readonly entries = new Map<string, Entry>();
  /** The latest refresh in flight per customer, and when it started. */
  private readonly loading = new Map<string, { startedAt: number; entry: Promise<Entry> }>();

  constructor(
    private readonly metadata: MetadataStore,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  async forEvent(customerId: string, eventTimestamp: number): Promise<ActiveSubscription[]> {
    const entry = this.entries.get(customerId);
    if (entry && entry.confirmedAt > eventTimestamp) return entry.subscriptions;
    return (await this.refresh(customerId, eventTimestamp)).subscriptions;
  }

  /**
   * Coalesces concurrent refreshes of one customer into one, but only for events accepted before
   * that refresh started: a refresh whose reads may predate a change must not answer for an event
   * accepted after the change's response.
   */
  private refresh(customerId: string, eventTimestamp: number): Promise<Entry> {
    const pending = this.loading.get(customerId);
    if (pending && pending.startedAt > eventTimestamp) return pending.entry;
    const startedAt = this.clock.now();
    const loading = { startedAt, entry: this.load(customerId, startedAt) };
    loading.entry
      .finally(() => {
        if (this.loading.get(customerId) === loading) this.loading.delete(customerId);
      })
      .catch(() => undefined);
    this.loading.set(customerId, loading);
    return loading.entry;
  }

  private async load(customerId: string, checkedAt: number): Promise<Entry> {
    const version = await this.metadata.getSubscriptionsVersion(customerId);
    const current = this.entries.get(customerId);
    if (current && current.version === version) {
      current.confirmedAt = Math.max(current.confirmedAt, checkedAt);
      return current;
    }
    const subscriptions = await this.metadata.listActiveSubscriptions(customerId);
    const compiled: ActiveSubscription[] = [];
    for (const subscription of subscriptions) {
      try {
        compiled.push({ subscription, selector: compileSelector(subscription.eventSelector) });
      } catch (error) {
        // Selectors are validated at save time; one that no longer compiles (e.g. after a
        // tightened limit) matches nothing rather than stopping the customer's matching.
        this.log.error({ err: error, workflowId: subscription.workflowId }, 'Failed to compile a stored selector');
      }
    }
    const entry: Entry = { version, confirmedAt: checkedAt, subscriptions: compiled };
    // An older refresh that finishes last must not replace what a newer one confirmed.
    const latest = this.entries.get(customerId);
    if (!latest || latest.confirmedAt <= checkedAt) this.entries.set(customerId, entry);
    return entry;
  }
}
