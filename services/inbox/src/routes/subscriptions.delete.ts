import { defineRoute } from '@triggers/core/http';
import type { InboxDeps } from '../deps.ts';
import { workflowIdParams } from '../schemas.ts';
import { idFromPath, subscriptionNotFound } from '../path-ids.ts';
import { refuseIfManaged } from '../subscriptions/managed-subscription.ts';

export function makeSubscriptionDeleteRoute(deps: InboxDeps) {
  return defineRoute({
    method: 'delete',
    path: '/api/v1/subscriptions/:workflow_id',
    operationId: 'deleteSubscription',
    summary: 'Delete a subscription',
    tags: ['Subscriptions'],
    auth: 'api_key',
    params: workflowIdParams,
    responses: { 204: { description: 'Deleted' } },
    errors: ['unauthorized', 'not_found', 'subscription_managed_by_resource', 'unavailable'],
    handler: async ({ customer, params }) => {
      const workflowId = idFromPath(params.workflow_id, subscriptionNotFound);
      // Who owns it never changes after creation, so reading it first leaves no race.
      const current = await deps.metadataStore.getSubscription(customer.customerId, workflowId);
      if (!current) throw subscriptionNotFound();
      refuseIfManaged(current);
      if (!(await deps.metadataStore.deleteSubscription(customer.customerId, workflowId))) throw subscriptionNotFound();
      deps.log.info({ customerId: customer.customerId, workflowId }, 'Deleted subscription');
      return { status: 204 };
    },
  });
}
