import type { z } from 'zod';
import { toIsoMillis, type Subscription, type SubscriptionBatching } from '@triggers/core/domain';
import type { batchSchema, subscriptionSchema, subscriptionWithSecretSchema } from './schemas.ts';

export type SubscriptionJson = z.output<typeof subscriptionSchema>;
export type BatchJson = z.output<typeof batchSchema>;

/** The subscription as the API shows it: never the secret (see `toSubscriptionJsonWithSecret`). */
export function toSubscriptionJson(subscription: Subscription): SubscriptionJson {
  return {
    workflow_id: subscription.workflowId,
    customer_id: subscription.customerId,
    event_selector: subscription.eventSelector as SubscriptionJson['event_selector'],
    webhook_url: subscription.webhookUrl,
    description: subscription.description,
    status: subscription.status,
    disabled_reason: subscription.disabledReason,
    batch: subscription.batching === null ? null : { max_events: subscription.batching.maxEvents, window_ms: subscription.batching.windowMs },
    created_at: toIsoMillis(subscription.createdAt),
    updated_at: toIsoMillis(subscription.updatedAt),
  };
}

/** Only the create responses carry the secret. */
export function toSubscriptionJsonWithSecret(subscription: Subscription): z.output<typeof subscriptionWithSecretSchema> {
  return { ...toSubscriptionJson(subscription), secret: subscription.secret };
}

export function batchingFromJson(batch: BatchJson | null | undefined): SubscriptionBatching | null {
  return batch ? { maxEvents: batch.max_events, windowMs: batch.window_ms } : null;
}
