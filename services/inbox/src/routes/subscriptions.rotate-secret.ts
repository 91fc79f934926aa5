import { toIsoMillis, generateWebhookSecret, secretRotation } from '@triggers/core/domain';
import { defineRoute, requestLogger } from '@triggers/core/http';
import type { InboxDeps } from '../deps.ts';
import { rotatedSecretSchema, workflowIdParams } from '../schemas.ts';
import { idFromPath, subscriptionNotFound } from '../path-ids.ts';
import { unmanagedSubscription } from '../subscriptions/managed-subscription.ts';

export function makeSubscriptionRotateSecretRoute(deps: InboxDeps) {
  return defineRoute({
    method: 'post',
    path: '/api/v1/subscriptions/:workflow_id/rotate-secret',
    operationId: 'rotateSubscriptionSecret',
    summary: "Replace a subscription's signing secret",
    description: 'The previous secret keeps signing too for 24 h (both signatures in `webhook-signature`), so receivers can switch without missing a delivery.',
    tags: ['Subscriptions'],
    auth: 'api_key',
    params: workflowIdParams,
    responses: { 200: { description: 'The new secret', schema: rotatedSecretSchema } },
    errors: ['unauthorized', 'not_found', 'subscription_managed_by_resource', 'unavailable'],
    handler: async ({ req, customer, params }) => {
      const workflowId = idFromPath(params.workflow_id, subscriptionNotFound);
      const current = await unmanagedSubscription(deps.metadataStore, customer.customerId, workflowId);
      const patch = secretRotation(current, generateWebhookSecret(), deps.clock.now());
      const rotated = await deps.metadataStore.updateSubscription(customer.customerId, workflowId, patch);
      if (!rotated) throw subscriptionNotFound();
      requestLogger(req, deps.log).info({ customerId: customer.customerId, workflowId }, 'Rotated subscription secret');
      return {
        status: 200,
        body: { workflow_id: workflowId, secret: rotated.secret, previous_secret_expires_at: toIsoMillis(patch.previousSecretExpiresAt as number) },
      };
    },
  });
}
