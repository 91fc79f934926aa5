import { defineRoute } from '@triggers/core/http';
import type { InboxDeps } from '../deps.ts';
import { DEFAULT_PAGE_LIMIT, inboxPageSchema, inboxQuerySchema } from '../schemas.ts';
import { toEventJson } from '../event-json.ts';

export function makeInboxListRoute(deps: InboxDeps) {
  return defineRoute({
    method: 'get',
    path: '/api/v1/inbox',
    operationId: 'listInbox',
    summary: "List the customer's events, newest first",
    description:
      'Keyset-paginated: following `cursor` until `has_more` is false visits every matching event exactly once, even while new events arrive. Unknown query parameters are refused.',
    tags: ['Reading'],
    auth: 'api_key',
    query: inboxQuerySchema,
    responses: { 200: { description: 'One page of events', schema: inboxPageSchema } },
    errors: ['invalid_request', 'unauthorized', 'unavailable'],
    handler: async ({ customer, query }) => {
      const page = await deps.eventStore.listEvents(customer.customerId, {
        eventType: query.event_type,
        status: query.status,
        startTime: query.start_time,
        endTime: query.end_time,
        limit: query.limit ?? DEFAULT_PAGE_LIMIT,
        cursor: query.cursor,
      });
      return {
        status: 200,
        body: {
          events: page.events.map(toEventJson),
          total: page.events.length,
          cursor: page.nextCursor,
          has_more: page.nextCursor !== null,
        },
      };
    },
  });
}
