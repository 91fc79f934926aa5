import { defineRoute } from '@triggers/core/http';
import type { InboxDeps } from '../deps.ts';
import { subscriptionSchema, workflowIdParams } from '../schemas.ts';
import { toSubscriptionJson } from '../subscription-json.ts';
import { idFromPath, subscriptionNotFound } from '../path-ids.ts';

export function makeSubscriptionGetRoute(deps: InboxDeps) {
  return defineRoute({
    method: 'get',
    path: '/api/v1/subscriptions/:workflow_id',
    operationId: 'getSubscription',
    summary: 'Read one subscription',
    tags: ['Subscriptions'],
    auth: 'api_key',
    params: workflowIdParams,
    responses: { 200: { description: 'The subscription (without its secret)', schema: subscriptionSchema } },
    errors: ['unauthorized', 'not_found', 'unavailable'],
    handler: async ({ customer, params }) => {
      const workflowId = idFromPath(params.workflow_id, subscriptionNotFound);
      const subscription = await deps.metadataStore.getSubscription(customer.customerId, workflowId);
      if (!subscription) throw subscriptionNotFound();
      return { status: 200, body: toSubscriptionJson(subscription) };
    },
  });
}
