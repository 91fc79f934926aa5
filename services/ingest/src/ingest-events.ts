import { createHash } from 'node:crypto';
import { TriggersError, uuidv7, uuidv7Time, toIsoMillis, eventTypeOf, type Clock, type JsonObject, type JsonText, type LocatedPayload, type NewEvent, type Customer } from '@triggers/core/domain';
import type { RateLimiter, RateLimitDecision, IdempotencyStore, StoredResponse, EventAcceptor } from '@triggers/core/ports';
import type { RouteResult } from '@triggers/core/http';
import { annotateSendOnSpan, sendMessagesSpan, traceparentOf, ROOT_CONTEXT, type Attributes, type Span } from '@triggers/core/runtime';
import type { IngestMetrics } from './metrics.ts';
import { idempotencyKeySchema, MAX_PAYLOAD_DEPTH, PAYLOAD_TOO_DEEP } from './schemas.ts';

export interface IngestDeps {
  clock: Clock;
  rateLimiter: RateLimiter;
  idempotencyStore: IdempotencyStore;
  eventAcceptor: EventAcceptor;
  /** The queue backend's kind, for the enqueue's `messaging.system` attribute. */
  queueKind?: string;
  metrics: IngestMetrics;
  settings: { defaultRateLimitPerSecond: number; idempotencyTtlMs: number };
}

/** How long a first request may hold its idempotency key before a retry may take it over. */
const IDEMPOTENCY_LEASE_MS = 60_000;

export function readIdempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (typeof header !== 'string' || !idempotencyKeySchema.safeParse(header).success) {
    throw new TriggersError('invalid_request', { detail: 'Idempotency-Key must be 1–255 printable ASCII characters.' });
  }
  return header;
}

/** A payload ready to store: its text as sent, and its `event_type` read from the parsed value. */
export interface PayloadInput {
  json: JsonText<JsonObject>;
  eventType: string | null;
}

/**
 * The payload to store, from its parsed value (which the schema accepted) and its text located in
 * the body; or why it is refused (nested too deeply).
 */
export function toPayloadInput(parsed: JsonObject, located: LocatedPayload | undefined): PayloadInput | { problem: string } {
  if (located === undefined) throw new Error('a payload the schema accepted was not found in the body text');
  if (located.depth > MAX_PAYLOAD_DEPTH) return { problem: `payload: ${PAYLOAD_TOO_DEEP}` };
  return { json: located.json, eventType: eventTypeOf(parsed) };
}

/**
 * Accepts validated payloads for a customer, in API.md's order after parsing:
 * rate-limit (counting events) → idempotency → store and enqueue (one outbox write).
 */
export async function ingestEvents(
  deps: IngestDeps,
  request: {
    customer: Customer;
    payloads: PayloadInput[];
    idempotencyKey: string | undefined;
    /** The request body as received: a repeat must match it to replay. */
    rawBody: string;
    /** Builds the 202 body from the accepted events. */
    respond: (events: NewEvent[]) => unknown;
    /** The request's SERVER span, which the messages continue (see mountRoutes). */
    span?: Span;
  },
): Promise<RouteResult> {
  const { customer, payloads, idempotencyKey } = request;
  const decision = await deps.rateLimiter.consume(
    customer.customerId,
    payloads.length,
    customer.rateLimitPerSecond ?? deps.settings.defaultRateLimitPerSecond,
  );
  const limitHeaders = rateLimitHeaders(decision);
  if (!decision.allowed) {
    deps.metrics.rateLimited.inc();
    if (decision.limit > 0 && payloads.length > decision.limit) {
      // More events than the bucket ever holds: no wait can admit it, so no Retry-After.
      throw new TriggersError('payload_too_large', {
        detail: `This request has ${payloads.length} events, more than the ${decision.limit} this customer's rate limit admits in one request (its burst); it can never be accepted: send at most ${decision.limit} events per request.`,
        headers: limitHeaders,
        extensions: { max_events: decision.limit },
      });
    }
    throw new TriggersError('rate_limited', {
      detail: `Rate limit of ${decision.limit} events per second exceeded; retry after ${decision.retryAfterSeconds} s.`,
      headers: { ...limitHeaders, 'Retry-After': String(decision.retryAfterSeconds) },
    });
  }

  const ttlMs = deps.settings.idempotencyTtlMs;
  if (idempotencyKey !== undefined) {
    const requestHash = createHash('sha256').update(request.rawBody).digest('hex');
    const claim = await deps.idempotencyStore.claim(customer.customerId, idempotencyKey, requestHash, { leaseMs: IDEMPOTENCY_LEASE_MS, ttlMs });
    if (claim.state === 'completed') {
      return { status: claim.response.status, body: claim.response.body, headers: { ...limitHeaders, 'Idempotent-Replayed': 'true' } };
    }
    if (claim.state === 'in_progress') {
      throw new TriggersError('idempotency_key_in_progress', { detail: 'A request with this Idempotency-Key is still being processed.', headers: limitHeaders });
    }
    if (claim.state === 'mismatch') {
      throw new TriggersError('idempotency_key_reused', { detail: 'This Idempotency-Key was used with a different request body.', headers: limitHeaders });
    }
  }

  const events = payloads.map((payload) => {
    const eventId = uuidv7(deps.clock.now());
    return { eventId, customerId: customer.customerId, payload: payload.json, eventType: payload.eventType, timestamp: uuidv7Time(eventId) };
  });
  const response: StoredResponse = { status: 202, body: request.respond(events) };
  try {
    const accept = (traceparent: string | undefined) =>
      deps.eventAcceptor.accept({
        events,
        idempotency: idempotencyKey === undefined ? undefined : { customerId: customer.customerId, key: idempotencyKey, response, ttlMs },
        traceparent,
      });
    if (request.span) {
      // The request's SERVER span is the enqueue's producer (messaging.* attributes on it, no
      // span of its own): its context rides in every event's message, and the matcher continues it.
      await accept(annotateSendOnSpan(request.span, deps.queueKind, 'events', events.length, enqueueIds(customer, events)));
    } else {
      // No request span passed on (tracing off, or a caller without one): a PRODUCER span of its own.
      await sendMessagesSpan(deps.queueKind, 'events', events.length, enqueueIds(customer, events), (span) => accept(traceparentOf(span)), ROOT_CONTEXT);
    }
  } catch (error) {
    if (idempotencyKey !== undefined) await deps.idempotencyStore.release(customer.customerId, idempotencyKey).catch(() => undefined);
    throw error;
  }
  deps.metrics.eventsAccepted.inc(events.length);
  return { status: 202, body: response.body, headers: limitHeaders };
}

/** The ids an enqueue's span carries: the customer's, and the event's when there is one. */
function enqueueIds(customer: Customer, events: NewEvent[]): Attributes {
  const attributes: Attributes = { 'triggers.customer_id': customer.customerId };
  if (events.length === 1) attributes['triggers.event_id'] = events[0].eventId;
  return attributes;
}

function rateLimitHeaders(decision: RateLimitDecision): Record<string, string> {
  return {
    'RateLimit-Limit': String(decision.limit),
    'RateLimit-Remaining': String(Math.max(0, Math.floor(decision.remaining))),
    'RateLimit-Reset': String(Math.max(0, Math.ceil(decision.resetSeconds))),
  };
}

export function acceptedTimestamp(event: NewEvent): string {
  return toIsoMillis(event.timestamp);
}
