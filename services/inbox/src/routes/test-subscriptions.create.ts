import { defineRoute, requestLogger } from '@triggers/core/http';
import type { InboxDeps } from '../deps.ts';
import { subscriptionWithSecretSchema, testSubscriptionCreateSchema } from '../schemas.ts';
import { toSubscriptionJsonWithSecret } from '../subscription-json.ts';
import { customerNotFound } from '../path-ids.ts';
import { parseSubscriptionBody } from '../subscriptions/subscription-body.ts';
import { createSubscription } from '../subscriptions/create-subscription.ts';

export function makeTestSubscriptionCreateRoute(deps: InboxDeps) {
  return defineRoute({
    method: 'post',
    path: '/admin/test-subscription',
    operationId: 'createTestSubscription',
    summary: 'Create a subscription for any customer',
    description: 'The same checks as `POST /api/v1/subscriptions`, for the customer named in the body.',
    tags: ['Admin'],
    auth: 'admin',
    body: testSubscriptionCreateSchema,
    bodyValidatedByHandler: true,
    responses: { 201: { description: 'Created, with its signing secret', schema: subscriptionWithSecretSchema } },
    errors: ['invalid_json', 'invalid_request', 'invalid_selector', 'invalid_webhook_url', 'unauthorized', 'not_found', 'payload_too_large', 'unsupported_media_type', 'unavailable'],
    handler: async ({ req, body }) => {
      const { customer_id, ...fields } = parseSubscriptionBody(testSubscriptionCreateSchema, body);
      const customerId = customer_id.toLowerCase();
      if (!(await deps.metadataStore.getCustomer(customerId))) throw customerNotFound();
      const subscription = await createSubscription({ ...deps, log: requestLogger(req, deps.log) }, customerId, fields);
      return { status: 201, body: toSubscriptionJsonWithSecret(subscription) };
    },
  });
}
