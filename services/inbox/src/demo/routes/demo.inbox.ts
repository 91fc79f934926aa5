import { defineRoute } from '@triggers/core/http/route.ts';
import type { DemoDeps } from '../deps.ts';
import { inboxPageSchema } from '../../schemas.ts';
import { demoInboxQuerySchema } from '../schemas.ts';

export function makeDemoInboxRoute(deps: DemoDeps) {
  return defineRoute({
    method: 'get',
    path: '/demo/inbox',
    operationId: 'demoInbox',
    summary: "The demo customer's inbox",
    description: 'Proxies `GET /api/v1/inbox` with the same filters, paging and errors.',
    tags: ['Demo'],
    auth: 'none',
    query: demoInboxQuerySchema,
    responses: { 200: { description: 'One page of events, newest first', schema: inboxPageSchema } },
    errors: ['invalid_request', 'unavailable'],
    handler: async ({ query, requestId }) => {
      const response = await deps.customer.call({ method: 'GET', path: '/api/v1/inbox', query, requestId });
      return { status: 200, body: response.body };
    },
  });
}
