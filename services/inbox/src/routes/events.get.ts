import { defineRoute } from '@triggers/core/http';
import type { InboxDeps } from '../deps.ts';
import { eventIdParams, eventWithAttemptsSchema } from '../schemas.ts';
import { toAttemptJson, toDeliveryJson, toEventJson } from '../event-json.ts';
import { eventNotFound, idFromPath } from '../path-ids.ts';

export function makeEventGetRoute(deps: InboxDeps) {
  return defineRoute({
    method: 'get',
    path: '/api/v1/events/:event_id',
    operationId: 'getEvent',
    summary: 'Read one event, its delivery attempts and its deliveries\' progress',
    description: "Another customer's event is 404, exactly like an unknown id.",
    tags: ['Reading'],
    auth: 'api_key',
    params: eventIdParams,
    responses: { 200: { description: 'The event, with its attempts oldest first', schema: eventWithAttemptsSchema } },
    errors: ['unauthorized', 'not_found', 'unavailable'],
    handler: async ({ customer, params }) => {
      const eventId = idFromPath(params.event_id, eventNotFound);
      // The event first, then its attempts: an attempt is recorded before the status it settles, so
      // this order never shows a settled status without its attempts. Read side by side (two
      // connections, two snapshots), `delivered` could come with an empty attempt list.
      const event = await deps.eventStore.getEvent(customer.customerId, eventId);
      if (!event) throw eventNotFound();
      const [attempts, deliveries] = await Promise.all([deps.eventStore.listAttempts(customer.customerId, eventId), deps.deliveryStore.listDeliveries(customer.customerId, eventId)]);
      const byAge = [...deliveries].sort((a, b) => a.createdAt - b.createdAt);
      return { status: 200, body: { ...toEventJson(event), attempts: attempts.map(toAttemptJson), deliveries: byAge.map(toDeliveryJson) } };
    },
  });
}
