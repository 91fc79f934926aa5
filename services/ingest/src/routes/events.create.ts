import { defineRoute, requestSpan } from '@triggers/core/http';
import { TriggersError, locateEventPayload, type JsonObject } from '@triggers/core/domain';
import { acceptedEventSchema, eventRequestSchema, idempotencyKeyHeader, isPlainEventRequest, rateLimitHeaders } from '../schemas.ts';
import { acceptedTimestamp, ingestEvents, readIdempotencyKey, toPayloadInput, type IngestDeps } from '../ingest-events.ts';

export function makeEventCreateRoute(deps: IngestDeps) {
  return defineRoute({
    method: 'post',
    path: '/api/v1/events',
    operationId: 'createEvent',
    summary: 'Submit one event',
    description: '202 means the event is durably stored and enqueued: it is never lost, and ends delivered, failed or unmatched.',
    tags: ['Ingestion'],
    auth: 'api_key',
    body: eventRequestSchema,
    isPlainValidBody: isPlainEventRequest,
    headers: [idempotencyKeyHeader],
    responses: { 202: { description: 'Accepted', schema: acceptedEventSchema, headers: rateLimitHeaders } },
    errors: ['invalid_json', 'invalid_request', 'unauthorized', 'payload_too_large', 'unsupported_media_type', 'idempotency_key_in_progress', 'idempotency_key_reused', 'rate_limited', 'unavailable'],
    handler: ({ json, customer, req, rawBody }) => {
      // Validated by the schema; stored as the text sent (a parsed copy would round big numbers
      // and drop a `__proto__` key).
      const payload = toPayloadInput((json as { payload: JsonObject }).payload, locateEventPayload(rawBody));
      if ('problem' in payload) throw new TriggersError('invalid_request', { detail: payload.problem });
      return ingestEvents(deps, {
        customer,
        payloads: [payload],
        idempotencyKey: readIdempotencyKey(req.headers['idempotency-key']),
        rawBody,
        span: requestSpan(req),
        respond: ([event]) => ({
          event_id: event.eventId,
          status: 'accepted',
          message: 'Event accepted for processing',
          timestamp: acceptedTimestamp(event),
        }),
      });
    },
  });
}
