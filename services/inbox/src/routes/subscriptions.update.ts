import { defineRoute, requestLogger } from '@triggers/core/http';
import type { InboxDeps } from '../deps.ts';
import { subscriptionSchema, subscriptionUpdateSchema, workflowIdParams } from '../schemas.ts';
import { toSubscriptionJson } from '../subscription-json.ts';
import { idFromPath, subscriptionNotFound } from '../path-ids.ts';
import { parseSubscriptionBody } from '../subscriptions/subscription-body.ts';
import { subscriptionPatchFrom } from '../subscriptions/update-subscription.ts';
import { unmanagedSubscription } from '../subscriptions/managed-subscription.ts';

export function makeSubscriptionUpdateRoute(deps: InboxDeps) {
  return defineRoute({
    method: 'patch',
    path: '/api/v1/subscriptions/:workflow_id',
    operationId: 'updateSubscription',
    summary: 'Change a subscription',
    description: 'Send at least one field. A new selector is parsed and a new URL checked as on create. Setting `status` to `active` clears `disabled_reason`.',
    tags: ['Subscriptions'],
    auth: 'api_key',
    params: workflowIdParams,
    body: subscriptionUpdateSchema,
    bodyValidatedByHandler: true,
    responses: { 200: { description: 'The updated subscription', schema: subscriptionSchema } },
    errors: ['invalid_json', 'invalid_request', 'invalid_selector', 'invalid_webhook_url', 'unauthorized', 'not_found', 'subscription_managed_by_resource', 'payload_too_large', 'unsupported_media_type', 'unavailable'],
    handler: async ({ req, customer, params, body }) => {
      const workflowId = idFromPath(params.workflow_id, subscriptionNotFound);
      const changes = parseSubscriptionBody(subscriptionUpdateSchema, body);
      const patch = subscriptionPatchFrom(changes, deps.settings.ssrfAllow, deps.clock.now());
      await unmanagedSubscription(deps.metadataStore, customer.customerId, workflowId);
      const updated = await deps.metadataStore.updateSubscription(customer.customerId, workflowId, patch);
      if (!updated) throw subscriptionNotFound();
      requestLogger(req, deps.log).info({ customerId: customer.customerId, workflowId }, 'Updated subscription');
      return { status: 200, body: toSubscriptionJson(updated) };
    },
  });
}
