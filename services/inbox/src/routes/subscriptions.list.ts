import { defineRoute } from '@triggers/core/http';
import type { InboxDeps } from '../deps.ts';
import { DEFAULT_PAGE_LIMIT, pageQuerySchema, subscriptionPageSchema } from '../schemas.ts';
import { toSubscriptionJson } from '../subscription-json.ts';

export function makeSubscriptionListRoute(deps: InboxDeps) {
  return defineRoute({
    method: 'get',
    path: '/api/v1/subscriptions',
    operationId: 'listSubscriptions',
    summary: "List the customer's subscriptions, newest first",
    tags: ['Subscriptions'],
    auth: 'api_key',
    query: pageQuerySchema,
    responses: { 200: { description: 'One page of subscriptions (without secrets)', schema: subscriptionPageSchema } },
    errors: ['invalid_request', 'unauthorized', 'unavailable'],
    handler: async ({ customer, query }) => {
      const page = await deps.metadataStore.listSubscriptions(customer.customerId, { limit: query.limit ?? DEFAULT_PAGE_LIMIT, cursor: query.cursor });
      return {
        status: 200,
        body: { subscriptions: page.subscriptions.map(toSubscriptionJson), cursor: page.nextCursor, has_more: page.nextCursor !== null },
      };
    },
  });
}
