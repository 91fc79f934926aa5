import { defineRoute, requestLogger } from '@triggers/core/http';
import type { InboxDeps } from '../deps.ts';
import { subscriptionCreateSchema, subscriptionWithSecretSchema } from '../schemas.ts';
import { toSubscriptionJsonWithSecret } from '../subscription-json.ts';
import { parseSubscriptionBody } from '../subscriptions/subscription-body.ts';
import { createSubscription } from '../subscriptions/create-subscription.ts';

export function makeSubscriptionCreateRoute(deps: InboxDeps) {
  return defineRoute({
    method: 'post',
    path: '/api/v1/subscriptions',
    operationId: 'createSubscription',
    summary: 'Create a subscription (workflow)',
    description: 'The selector is parsed and the URL checked against the SSRF policy now, not when events arrive. The signing secret is shown only in this response and after a rotation.',
    tags: ['Subscriptions'],
    auth: 'api_key',
    body: subscriptionCreateSchema,
    bodyValidatedByHandler: true,
    responses: { 201: { description: 'Created, with its signing secret', schema: subscriptionWithSecretSchema } },
    errors: ['invalid_json', 'invalid_request', 'invalid_selector', 'invalid_webhook_url', 'unauthorized', 'payload_too_large', 'unsupported_media_type', 'unavailable'],
    handler: async ({ req, customer, body }) => {
      const fields = parseSubscriptionBody(subscriptionCreateSchema, body);
      const subscription = await createSubscription({ ...deps, log: requestLogger(req, deps.log) }, customer.customerId, fields);
      return { status: 201, body: toSubscriptionJsonWithSecret(subscription) };
    },
  });
}
