import { isDeepStrictEqual } from 'node:util';
import { secretRotation, type Subscription } from '@triggers/core/domain';
import type { SubscriptionPatch } from '@triggers/core/ports';
import type { DesiredSubscription } from './desired-subscription.ts';

/**
 * What the store must do so that the subscription matches the resource (pure: the reconciler
 * reads the inputs and carries the plan out).
 *
 * - No subscription yet: create it, owned by the resource, with the referenced Secret's value as
 *   its signing secret (or a generated one when there is no reference).
 * - Otherwise patch exactly the fields that differ. A new value in the referenced Secret is a
 *   rotation: the previous secret keeps signing for 24 h, as after the REST API's rotate-secret.
 * - `enabled: false` disables it (and clears a reason Triggers gave, so the user now owns the
 *   state); `enabled: true` turns a disabled one back on, except one Triggers disabled itself (a
 *   410 Gone from the receiver): that stays off until the webhook URL changes or the resource is
 *   disabled and enabled again, so a gone receiver is not called again on every resync.
 */
export type SyncPlan = { action: 'create'; subscription: Subscription } | { action: 'update'; patch: SubscriptionPatch } | { action: 'none' };

export interface SyncInput {
  desired: DesiredSubscription;
  existing: Subscription | null;
  /** The referenced Secret's value; null when the resource references none. */
  secretFromRef: string | null;
  workflowId: string;
  customerId: string;
  managedBy: string;
  now: number;
  generateSecret: () => string;
}

export function planSync(input: SyncInput): SyncPlan {
  const { desired, existing, secretFromRef, now } = input;
  if (!existing) {
    return {
      action: 'create',
      subscription: {
        workflowId: input.workflowId,
        customerId: input.customerId,
        eventSelector: desired.eventSelector,
        webhookUrl: desired.webhookUrl,
        description: desired.description,
        status: desired.enabled ? 'active' : 'disabled',
        disabledReason: null,
        secret: secretFromRef ?? input.generateSecret(),
        previousSecret: null,
        previousSecretExpiresAt: null,
        batching: desired.batching,
        retryPolicy: desired.retryPolicy,
        timeoutMs: desired.timeoutMs,
        ordering: desired.ordering,
        createdAt: now,
        updatedAt: now,
        managedBy: input.managedBy,
      },
    };
  }

  const patch: SubscriptionPatch = { updatedAt: now };
  let changed = false;
  const set = <K extends keyof SubscriptionPatch>(field: K, value: SubscriptionPatch[K]) => {
    patch[field] = value;
    changed = true;
  };
  if (!isDeepStrictEqual(existing.eventSelector, desired.eventSelector)) set('eventSelector', desired.eventSelector);
  const urlChanged = existing.webhookUrl !== desired.webhookUrl;
  if (urlChanged) set('webhookUrl', desired.webhookUrl);
  if (existing.description !== desired.description) set('description', desired.description);
  if (!isDeepStrictEqual(existing.batching, desired.batching)) set('batching', desired.batching);
  if (!isDeepStrictEqual(existing.retryPolicy ?? null, desired.retryPolicy)) set('retryPolicy', desired.retryPolicy);
  if ((existing.timeoutMs ?? null) !== desired.timeoutMs) set('timeoutMs', desired.timeoutMs);
  if ((existing.ordering ?? 'unordered') !== desired.ordering) set('ordering', desired.ordering);

  if (!desired.enabled) {
    if (existing.status !== 'disabled') set('status', 'disabled');
    if (existing.disabledReason !== null) set('disabledReason', null);
  } else if (existing.status === 'disabled' && (existing.disabledReason === null || urlChanged)) {
    set('status', 'active');
    if (existing.disabledReason !== null) set('disabledReason', null);
  }

  if (secretFromRef !== null && secretFromRef !== existing.secret) {
    Object.assign(patch, secretRotation(existing, secretFromRef, now));
    changed = true;
  }
  return changed ? { action: 'update', patch } : { action: 'none' };
}
