import { TriggersError, locateBatchPayloads, type JsonObject } from '@triggers/core/domain';
import { defineRoute, requestSpan, zodIssuesDetail } from '@triggers/core/http';
import { acceptedBatchSchema, batchRequestSchema, eventRequestSchema, idempotencyKeyHeader, isPlainEventRequest, MAX_BATCH_EVENTS, rateLimitHeaders } from '../schemas.ts';
import { acceptedTimestamp, ingestEvents, readIdempotencyKey, toPayloadInput, type IngestDeps, type PayloadInput } from '../ingest-events.ts';

/**
 * All-or-nothing validation: every invalid item is reported by index, and nothing is stored.
 * `rawBody` is the body's text, where each payload's text is found.
 */
function validateBatch(body: unknown, rawBody: string): PayloadInput[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new TriggersError('invalid_request', { detail: 'The body must be an object {"events": [...]}.', extensions: { errors: [] } });
  }
  const unknown = Object.keys(body).filter((k) => k !== 'events');
  const events = (body as { events?: unknown }).events;
  if (unknown.length > 0 || !Array.isArray(events) || events.length === 0 || events.length > MAX_BATCH_EVENTS) {
    const detail =
      unknown.length > 0
        ? `body: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}`
        : !Array.isArray(events)
          ? 'events: must be an array of {"payload": {...}}'
          : `events: must hold 1–${MAX_BATCH_EVENTS} items (got ${events.length})`;
    throw new TriggersError('invalid_request', { detail, extensions: { errors: [] } });
  }
  const errors: { index: number; detail: string }[] = [];
  const payloads: PayloadInput[] = [];
  const located = locateBatchPayloads(rawBody);
  events.forEach((item, index) => {
    if (!isPlainEventRequest(item)) {
      const result = eventRequestSchema.safeParse(item);
      if (!result.success) {
        errors.push({ index, detail: zodIssuesDetail(result.error.issues, 'event') });
        return;
      }
    }
    // Stored as the text sent: the schema's copy would drop a `__proto__` key, a parsed one round big numbers.
    const payload = toPayloadInput((item as { payload: JsonObject }).payload, located[index]);
    if ('problem' in payload) errors.push({ index, detail: payload.problem });
    else payloads.push(payload);
  });
  if (errors.length > 0) {
    throw new TriggersError('invalid_request', {
      detail: `${errors.length} of ${events.length} events are invalid; nothing was stored.`,
      extensions: { errors },
    });
  }
  return payloads;
}

export function makeEventBatchRoute(deps: IngestDeps) {
  return defineRoute({
    method: 'post',
    path: '/api/v1/events/batch',
    operationId: 'createEventBatch',
    summary: 'Submit 1–500 events at once',
    description: 'All-or-nothing: one invalid item fails the whole request with `errors: [{index, detail}]`. Rate limiting counts events.',
    tags: ['Ingestion'],
    auth: 'api_key',
    body: batchRequestSchema,
    bodyValidatedByHandler: true,
    headers: [idempotencyKeyHeader],
    responses: { 202: { description: 'Accepted, in request order', schema: acceptedBatchSchema, headers: rateLimitHeaders } },
    errors: ['invalid_json', 'invalid_request', 'unauthorized', 'payload_too_large', 'unsupported_media_type', 'idempotency_key_in_progress', 'idempotency_key_reused', 'rate_limited', 'unavailable'],
    handler: ({ body, customer, req, rawBody }) =>
      ingestEvents(deps, {
        customer,
        payloads: validateBatch(body, rawBody),
        idempotencyKey: readIdempotencyKey(req.headers['idempotency-key']),
        rawBody,
        span: requestSpan(req),
        respond: (events) => ({
          events: events.map((event) => ({ event_id: event.eventId, status: 'accepted', timestamp: acceptedTimestamp(event) })),
        }),
      }),
  });
}
