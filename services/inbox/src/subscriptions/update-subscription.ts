import type { SsrfAllow, Selector, SubscriptionOrdering, SubscriptionStatus } from '@triggers/core/domain';
import type { SubscriptionPatch } from '@triggers/core/ports';
import { batchingFromJson, retryPolicyFromJson, type BatchJson, type RetryPolicyJson } from '../subscription-json.ts';
import { requireAllowedWebhookUrl } from './webhook-url.ts';

export interface SubscriptionChanges {
  /** Already compiled (see `parseSubscriptionBody`). */
  event_selector?: Selector;
  webhook_url?: string;
  description?: string | null;
  status?: SubscriptionStatus;
  batch?: BatchJson | null;
  retry?: RetryPolicyJson | null;
  timeout_ms?: number | null;
  ordering?: SubscriptionOrdering;
}

/**
 * The store patch for a PATCH body: the URL is checked again, and turning a subscription back on
 * clears why it was disabled. Absent fields stay as they are; `null` clears description and batch.
 */
export function subscriptionPatchFrom(changes: SubscriptionChanges, allow: SsrfAllow, now: number): SubscriptionPatch {
  const patch: SubscriptionPatch = { updatedAt: now };
  if (changes.event_selector !== undefined) patch.eventSelector = changes.event_selector;
  if (changes.webhook_url !== undefined) patch.webhookUrl = requireAllowedWebhookUrl(changes.webhook_url, allow);
  if (changes.description !== undefined) patch.description = changes.description;
  if (changes.batch !== undefined) patch.batching = batchingFromJson(changes.batch);
  if (changes.retry !== undefined) patch.retryPolicy = retryPolicyFromJson(changes.retry);
  if (changes.timeout_ms !== undefined) patch.timeoutMs = changes.timeout_ms;
  if (changes.ordering !== undefined) patch.ordering = changes.ordering;
  if (changes.status !== undefined) {
    patch.status = changes.status;
    if (changes.status === 'active') patch.disabledReason = null;
  }
  return patch;
}
