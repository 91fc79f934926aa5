import { z } from 'zod';
import { randomUUID } from 'node:crypto';
import { defineRoute, isoTime, requestLogger, requestTraceparent } from '@triggers/core/http';
import { eventMessage } from '@triggers/core/ports';
import type { InboxDeps } from '../deps.ts';
import { eventIdParams } from '../schemas.ts';
import { eventNotFound, idFromPath } from '../path-ids.ts';

const replayAcceptedSchema = z.object({
  event_id: z.string(),
  replay_id: z.string().meta({ description: 'Identifies this replay; its deliveries get new `webhook-id`s.' }),
  status: z.literal('accepted'),
  message: z.string(),
  timestamp: isoTime,
});

export function makeEventReplayRoute(deps: InboxDeps) {
  return defineRoute({
    method: 'post',
    path: '/api/v1/events/:event_id/replay',
    operationId: 'replayEvent',
    summary: 'Match a stored event again and deliver it to what matches now',
    description:
      'Each matching active subscription gets a new delivery with a new `webhook-id`. A failed or unmatched event goes back to pending while the replay is delivered; a delivered one stays delivered.',
    tags: ['Reading'],
    auth: 'api_key',
    params: eventIdParams,
    responses: { 202: { description: 'The replay is enqueued', schema: replayAcceptedSchema } },
    errors: ['unauthorized', 'not_found', 'unavailable'],
    handler: async ({ req, customer, params }) => {
      const eventId = idFromPath(params.event_id, eventNotFound);
      const event = await deps.eventStore.getEvent(customer.customerId, eventId);
      if (!event) throw eventNotFound();
      const replayId = randomUUID();
      // The replay request's trace continues through the matcher and the new deliveries.
      await deps.queue.send('events', eventMessage({ eventId, customerId: customer.customerId }, { replayId, traceparent: requestTraceparent(req) }));
      requestLogger(req, deps.log).info({ eventId, replayId }, 'Enqueued replay');
      return {
        status: 202,
        body: { event_id: eventId, replay_id: replayId, status: 'accepted', message: 'Replay accepted for delivery', timestamp: new Date(deps.clock.now()).toISOString() },
      };
    },
  });
}
