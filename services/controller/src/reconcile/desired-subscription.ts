import { type SsrfAllow, compileSelector, type Selector, checkWebhookUrl, TriggersError, type SubscriptionBatching, type SubscriptionOrdering, type SubscriptionRetryPolicy } from '@triggers/core/domain';
import type { SubscriptionSpec } from '../subscription-resource.ts';

/** What the spec asks the store to hold, checked exactly as the REST API checks a subscription body. */
export interface DesiredSubscription {
  eventSelector: Selector;
  webhookUrl: string;
  description: string | null;
  batching: SubscriptionBatching | null;
  retryPolicy: SubscriptionRetryPolicy | null;
  timeoutMs: number | null;
  ordering: SubscriptionOrdering;
  enabled: boolean;
}

export type SpecProblem = { reason: 'InvalidSelector' | 'InvalidWebhookUrl'; message: string };

/**
 * The API server already checked the shape (the CRD's schema and CEL rules); this runs what only
 * the REST API's code can judge: the selector compiler (JSONPath syntax, regex dialect, nesting,
 * operator values) and the SSRF policy (`TRIGGERS_SSRF_ALLOW`) on the webhook URL.
 */
export function desiredSubscription(spec: SubscriptionSpec, ssrfAllow: SsrfAllow): { ok: true; desired: DesiredSubscription } | ({ ok: false } & SpecProblem) {
  let eventSelector: Selector;
  try {
    eventSelector = compileSelector(spec.selector).source;
  } catch (error) {
    if (error instanceof TriggersError) return { ok: false, reason: 'InvalidSelector', message: `spec.selector: ${error.detail}` };
    throw error;
  }
  const url = checkWebhookUrl(spec.webhookUrl, ssrfAllow);
  if (!url.ok) return { ok: false, reason: 'InvalidWebhookUrl', message: `spec.webhookUrl ${url.reason}.` };
  return {
    ok: true,
    desired: {
      eventSelector,
      webhookUrl: url.url.href,
      description: spec.description ?? null,
      batching: spec.batching ? { maxEvents: spec.batching.maxEvents, windowMs: spec.batching.windowMs } : null,
      retryPolicy: spec.retry ? retryPolicyOf(spec.retry) : null,
      timeoutMs: spec.timeoutMs ?? null,
      ordering: spec.ordering ?? 'unordered',
      enabled: spec.enabled ?? true,
    },
  };
}

/** Only the fields the spec sets, so an unchanged spec compares equal to what the store holds. */
function retryPolicyOf(retry: NonNullable<SubscriptionSpec['retry']>): SubscriptionRetryPolicy {
  const policy: SubscriptionRetryPolicy = {};
  if (retry.maxAttempts !== undefined) policy.maxAttempts = retry.maxAttempts;
  if (retry.scheduleMs !== undefined) policy.scheduleMs = [...retry.scheduleMs];
  if (retry.baseMs !== undefined) policy.baseMs = retry.baseMs;
  if (retry.maxDelayMs !== undefined) policy.maxDelayMs = retry.maxDelayMs;
  return policy;
}
