import { TriggersError, MANAGED_BY_PREFIX, type Subscription } from '@triggers/core/domain';

/**
 * A subscription owned by a Kubernetes `Subscription` resource is changed through that resource:
 * the controller would undo a change made here. `409 subscription_managed_by_resource` names it.
 */
export function refuseIfManaged(subscription: Subscription): void {
  const owner = subscription.managedBy;
  if (!owner) return;
  const resource = owner.startsWith(MANAGED_BY_PREFIX) ? `Subscription ${owner.slice(MANAGED_BY_PREFIX.length)} (triggers.dev/v1alpha1)` : owner;
  throw new TriggersError('subscription_managed_by_resource', {
    detail: `This subscription is managed by the Kubernetes resource ${resource}: change, rotate or delete it there (kubectl), not through the API.`,
  });
}
