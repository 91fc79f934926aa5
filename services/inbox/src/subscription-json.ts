import type { z } from 'zod';
import { toIsoMillis, type Subscription, type SubscriptionBatching, type SubscriptionRetryPolicy } from '@triggers/core/domain';
import type { batchSchema, retryPolicySchema, subscriptionSchema, subscriptionWithSecretSchema } from './schemas.ts';

export type SubscriptionJson = z.output<typeof subscriptionSchema>;
export type BatchJson = z.output<typeof batchSchema>;
export type RetryPolicyJson = z.output<typeof retryPolicySchema>;

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
    retry: retryPolicyToJson(subscription.retryPolicy ?? null),
    timeout_ms: subscription.timeoutMs ?? null,
    ordering: subscription.ordering ?? 'unordered',
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

export function retryPolicyFromJson(retry: RetryPolicyJson | null | undefined): SubscriptionRetryPolicy | null {
  if (!retry) return null;
  const policy: SubscriptionRetryPolicy = {};
  if (retry.max_attempts !== undefined) policy.maxAttempts = retry.max_attempts;
  if (retry.schedule_ms !== undefined) policy.scheduleMs = retry.schedule_ms;
  if (retry.base_ms !== undefined) policy.baseMs = retry.base_ms;
  if (retry.max_delay_ms !== undefined) policy.maxDelayMs = retry.max_delay_ms;
  return policy;
}

function retryPolicyToJson(policy: SubscriptionRetryPolicy | null): RetryPolicyJson | null {
  if (!policy) return null;
  const json: RetryPolicyJson = {};
  if (policy.maxAttempts !== undefined) json.max_attempts = policy.maxAttempts;
  if (policy.scheduleMs !== undefined) json.schedule_ms = policy.scheduleMs;
  if (policy.baseMs !== undefined) json.base_ms = policy.baseMs;
  if (policy.maxDelayMs !== undefined) json.max_delay_ms = policy.maxDelayMs;
  return json;
}
