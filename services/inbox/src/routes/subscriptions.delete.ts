import { defineRoute, requestLogger } from '@triggers/core/http';
import type { InboxDeps } from '../deps.ts';
import { workflowIdParams } from '../schemas.ts';
import { idFromPath, subscriptionNotFound } from '../path-ids.ts';
import { unmanagedSubscription } from '../subscriptions/managed-subscription.ts';

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
    handler: async ({ req, customer, params }) => {
      const workflowId = idFromPath(params.workflow_id, subscriptionNotFound);
      await unmanagedSubscription(deps.metadataStore, customer.customerId, workflowId);
      if (!(await deps.metadataStore.deleteSubscription(customer.customerId, workflowId))) throw subscriptionNotFound();
      requestLogger(req, deps.log).info({ customerId: customer.customerId, workflowId }, 'Deleted subscription');
      return { status: 204 };
    },
  });
}
