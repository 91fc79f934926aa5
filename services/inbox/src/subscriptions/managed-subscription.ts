import { TriggersError, MANAGED_BY_PREFIX, type Subscription } from '@triggers/core/domain';
import type { MetadataStore } from '@triggers/core/ports';
import { subscriptionNotFound } from '../path-ids.ts';

/**
 * A subscription owned by a Kubernetes `Subscription` resource is changed through that resource:
 * the controller would undo a change made here. `409 subscription_managed_by_resource` names it.
 */
function refuseIfManaged(subscription: Subscription): void {
  const owner = subscription.managedBy;
  if (!owner) return;
  const resource = owner.startsWith(MANAGED_BY_PREFIX) ? `Subscription ${owner.slice(MANAGED_BY_PREFIX.length)} (triggers.dev/v1alpha1)` : owner;
  throw new TriggersError('subscription_managed_by_resource', {
    detail: `This subscription is managed by the Kubernetes resource ${resource}: change, rotate or delete it there (kubectl), not through the API.`,
  });
}

/**
 * The subscription a PATCH, DELETE or rotate-secret is about to change: 404 when there is none,
 * 409 when a resource owns it. Who owns it never changes after creation, so reading it before the
 * write leaves no race.
 */
export async function unmanagedSubscription(store: MetadataStore, customerId: string, workflowId: string): Promise<Subscription> {
  const current = await store.getSubscription(customerId, workflowId);
  if (!current) throw subscriptionNotFound();
  refuseIfManaged(current);
  return current;
}
