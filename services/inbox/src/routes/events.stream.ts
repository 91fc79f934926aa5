import { z } from 'zod';
import { defineRoute, toSchema, requestLogger } from '@triggers/core/http';
import { EVENT_STATUSES, TriggersError, compileSelector, isUuid, selectorMatchesPayload, stringifyJson, uuidv7LowerBound, type CompiledSelector, type EventStatus } from '@triggers/core/domain';
import type { InboxDeps } from '../deps.ts';
import { eventSchema, selectorSchema } from '../schemas.ts';
import { toEventJson } from '../event-json.ts';
import { EventTail, TAIL_PAGE } from '../stream/event-tail.ts';
import { SseResponse } from '../stream/sse-response.ts';
import { CustomerStreamSlots } from '../stream/stream-slots.ts';

/** How often an idle stream asks the event store for new events (every backend: no push needed). */
export const STREAM_POLL_MS = 200;
/**
 * Events are streamed only once their id is this old. Ids are drawn just before the event is
 * committed, so an event with a smaller id can become visible slightly after a larger one (two
 * ingest replicas, two concurrent requests); holding the newest 250 ms back lets those land first,
 * so the stream's position (the last id sent) never skips one.
 */
export const STREAM_SETTLE_MS = 250;
/** The reconnect delay the stream asks EventSource clients to use. */
const RECONNECT_MS = 1000;

const streamQuerySchema = z.strictObject({
  event_type: z.string().min(1).optional().meta({ description: 'Only events whose `payload.event_type` equals this.' }),
  status: z.enum(EVENT_STATUSES).optional().meta({ description: 'Only events in this status when the stream reads them (just after acceptance, so usually `pending`).' }),
  selector: z
    .string()
    .min(1)
    .max(16_384)
    .optional()
    .meta({
      description: 'An event selector (as in subscriptions) as URL-encoded JSON: only the events it matches.',
      // Documented as a JSON parameter with the selector's schema (openapi.ts turns this into `content`).
      contentMediaType: 'application/json',
      contentSchema: toSchema(selectorSchema, 'input'),
    }),
});

export function makeEventStreamRoute(deps: InboxDeps) {
  const slots = new CustomerStreamSlots(deps.settings.stream.maxPerCustomer);
  return defineRoute({
    method: 'get',
    path: '/api/v1/events/stream',
    operationId: 'streamEvents',
    summary: "Stream the customer's events as they are accepted (Server-Sent Events)",
    description:
      'Each message is `id: <event_id>`, `event: event`, `data: <the event as in the inbox>`, oldest first. ' +
      'A reconnect with `Last-Event-ID` resumes right after that event, with nothing missed or repeated; without it the stream starts with events accepted after the connection. ' +
      'The first message (`id:` only, no data) is the starting position, so a client that drops before its first event resumes from there. ' +
      `A \`: ping\` comment at least every 15 s. A client that reads nothing for \`TRIGGERS_STREAM_SLOW_CLIENT_MS\` gets \`event: overflow\` and is disconnected. ` +
      'At most `TRIGGERS_STREAM_MAX_PER_CUSTOMER` open streams per customer (per inbox process), then `429`. Errors before the stream starts are problem+json.',
    tags: ['Reading'],
    auth: 'api_key',
    query: streamQuerySchema,
    headers: [{ name: 'Last-Event-ID', description: 'Resume after this event id (sent by EventSource on reconnect).', schema: z.string() }],
    responses: {
      200: { description: 'A `text/event-stream`; each `data` is one event as below.', schema: eventSchema, contentType: 'text/event-stream' },
    },
    errors: ['invalid_request', 'invalid_selector', 'unauthorized', 'rate_limited', 'unavailable'],
    handler: async ({ req, res, customer, query }) => {
      const selector = query.selector === undefined ? undefined : parseSelector(query.selector);
      const lastEventId = req.get('last-event-id')?.trim();
      if (lastEventId !== undefined && lastEventId !== '' && !isUuid(lastEventId)) {
        throw new TriggersError('invalid_request', { detail: 'Last-Event-ID must be an event id (a UUID).' });
      }
      const position = lastEventId ? lastEventId : uuidv7LowerBound(deps.clock.now());
      const tail = new EventTail(deps.eventStore, customer.customerId, { eventType: query.event_type, status: query.status as EventStatus | undefined }, position);

      const release = slots.acquire(customer.customerId);
      let sse: SseResponse;
      let first;
      try {
        // Read once before answering, so a store outage is a 503 problem, not a broken stream.
        first = await tail.readNext(deps.clock.now() - STREAM_SETTLE_MS);
        sse = new SseResponse(res, deps.settings.stream.slowClientMs);
        sse.onClose(release);
        sse.open(RECONNECT_MS, position);
      } catch (error) {
        release();
        throw error;
      }
      const heartbeat = setInterval(() => sse.ping(), deps.settings.stream.heartbeatMs);
      sse.onClose(() => clearInterval(heartbeat));
      const log = requestLogger(req, deps.log).child({ customerId: customer.customerId });

      let batch = first;
      while (!sse.isClosed) {
        for (const event of batch) {
          if (selector && !selectorMatchesPayload(selector, event.payload)) continue;
          if (!(await sse.send({ id: event.eventId, event: 'event', data: stringifyJson(toEventJson(event)) }))) break;
        }
        if (sse.isClosed) break;
        if (batch.length < TAIL_PAGE) await sse.sleep(STREAM_POLL_MS);
        try {
          batch = sse.isClosed ? [] : await tail.readNext(deps.clock.now() - STREAM_SETTLE_MS);
        } catch (error) {
          // The position is unchanged: the next read picks up where this one failed.
          log.warn({ err: error }, 'Failed to read events for a stream; retrying');
          batch = [];
          await sse.sleep(1000);
        }
      }
      return { status: 200, streamed: true };
    },
  });
}

function parseSelector(text: string): CompiledSelector {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new TriggersError('invalid_selector', { detail: 'selector: not valid JSON (send the selector as URL-encoded JSON).' });
  }
  return compileSelector(json);
}

