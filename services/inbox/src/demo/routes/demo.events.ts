import { defineRoute } from '@triggers/core/http/route.ts';
import type { DemoDeps } from '../deps.ts';
import { eventIdParams, eventWithAttemptsSchema } from '../../schemas.ts';
import { eventNotFound, idFromPath } from '../../path-ids.ts';

export function makeDemoEventGetRoute(deps: DemoDeps) {
  return defineRoute({
    method: 'get',
    path: '/demo/events/:event_id',
    operationId: 'demoGetEvent',
    summary: 'One demo event with its delivery attempts',
    description: 'Proxies `GET /api/v1/events/{event_id}`.',
    tags: ['Demo'],
    auth: 'none',
    params: eventIdParams,
    responses: { 200: { description: 'The event, with its attempts oldest first', schema: eventWithAttemptsSchema } },
    errors: ['not_found', 'unavailable'],
    handler: async ({ params, requestId }) => {
      const eventId = idFromPath(params.event_id, eventNotFound);
      const response = await deps.customer.call({ method: 'GET', path: `/api/v1/events/${eventId}`, requestId });
      return { status: 200, body: response.body };
    },
  });
}

export function makeDemoEventReplayRoute(deps: DemoDeps) {
  return defineRoute({
    method: 'post',
    path: '/demo/events/:event_id/replay',
    operationId: 'demoReplayEvent',
    summary: 'Replay a demo event',
    description: 'Proxies `POST /api/v1/events/{event_id}/replay`.',
    tags: ['Demo'],
    auth: 'none',
    params: eventIdParams,
    responses: { 202: { description: 'Replay accepted' } },
    errors: ['not_found', 'rate_limited', 'unavailable'],
    handler: async ({ params, requestId }) => {
      const eventId = idFromPath(params.event_id, eventNotFound);
      const response = await deps.customer.call({ method: 'POST', path: `/api/v1/events/${eventId}/replay`, requestId });
      return { status: 202, body: response.body };
    },
  });
}
