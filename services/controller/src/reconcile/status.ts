import { isDeepStrictEqual } from 'node:util';
import type { Subscription } from '@triggers/core/domain';
import type { Condition, ConditionStatus, SubscriptionResource, SubscriptionStatus } from '../subscription-resource.ts';

/**
 * The resource's `.status` after a reconcile (pure). Conditions follow metav1.Condition:
 * `lastTransitionTime` moves only when a condition's status flips; reasons are PascalCase.
 *
 * Ready: True when the subscription is stored, matches the spec and is active. Reasons:
 *   Active; Disabled (spec.enabled false); WebhookGone (the receiver answered 410 and Triggers
 *   disabled it: `disabledReason` says when); DisabledByTriggers (any other reason Triggers gave);
 *   or the failure's reason below.
 * Synced: True when the store holds what the spec asks for. Reasons: Synced, or a failure:
 *   InvalidSelector, InvalidWebhookUrl, InvalidSecret, SecretNotFound, SecretKeyNotFound,
 *   CustomerNotFound, StoreUnavailable, ApiError.
 */
export type FailureReason =
  | 'InvalidSelector'
  | 'InvalidWebhookUrl'
  | 'InvalidSecret'
  | 'SecretNotFound'
  | 'SecretKeyNotFound'
  | 'CustomerNotFound'
  | 'StoreUnavailable'
  | 'ApiError';

export type ReconcileOutcome =
  | { kind: 'synced'; subscription: Subscription }
  | { kind: 'failed'; reason: FailureReason; message: string; /** The stored subscription, when one exists (its state still shows). */ subscription: Subscription | null };

export function buildStatus(resource: SubscriptionResource, outcome: ReconcileOutcome, now: number): SubscriptionStatus {
  const generation = resource.metadata.generation ?? 0;
  const previous = resource.status ?? {};
  const subscription = outcome.subscription;
  const status: SubscriptionStatus = { observedGeneration: generation };
  if (subscription) status.subscriptionId = subscription.workflowId;
  else if (previous.subscriptionId) status.subscriptionId = previous.subscriptionId;

  let synced: [ConditionStatus, string, string];
  let ready: [ConditionStatus, string, string];
  if (outcome.kind === 'failed') {
    synced = ['False', outcome.reason, outcome.message];
    ready = ['False', outcome.reason, outcome.message];
    // The store is unreachable: what it held last is unknown, not wrong.
    if (outcome.reason === 'StoreUnavailable') ready = ['Unknown', outcome.reason, outcome.message];
  } else {
    synced = ['True', 'Synced', `Stored as subscription ${outcome.subscription.workflowId}`];
    ready = readiness(outcome.subscription);
  }
  if (subscription?.status === 'disabled' && subscription.disabledReason) {
    status.disabledReason = subscription.disabledReason;
    if (/410/.test(subscription.disabledReason)) status.lastDelivery = { outcome: 'Gone', at: new Date(subscription.updatedAt).toISOString() };
  }
  status.conditions = [
    condition('Ready', ready, generation, previous.conditions, now),
    condition('Synced', synced, generation, previous.conditions, now),
  ];
  return status;
}

function readiness(subscription: Subscription): [ConditionStatus, string, string] {
  if (subscription.status === 'active') return ['True', 'Active', 'The subscription is active'];
  if (!subscription.disabledReason) return ['False', 'Disabled', 'spec.enabled is false'];
  if (/410/.test(subscription.disabledReason)) {
    return ['False', 'WebhookGone', `${subscription.disabledReason}; change spec.webhookUrl, or set spec.enabled to false and back to true, to turn it on again`];
  }
  return ['False', 'DisabledByTriggers', subscription.disabledReason];
}

function condition(type: Condition['type'], [status, reason, message]: [ConditionStatus, string, string], generation: number, previous: Condition[] | undefined, now: number): Condition {
  const before = previous?.find((c) => c.type === type);
  const lastTransitionTime = before && before.status === status ? before.lastTransitionTime : new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { type, status, observedGeneration: generation, lastTransitionTime, reason, message: message.slice(0, 32_768) };
}

/** Whether writing `next` would change what the resource shows. */
export function statusChanged(current: SubscriptionStatus | undefined, next: SubscriptionStatus): boolean {
  return !isDeepStrictEqual(normalise(current ?? {}), normalise(next));
}

function normalise(status: SubscriptionStatus): SubscriptionStatus {
  return JSON.parse(JSON.stringify({ ...status, conditions: [...(status.conditions ?? [])].sort((a, b) => a.type.localeCompare(b.type)) })) as SubscriptionStatus;
}
