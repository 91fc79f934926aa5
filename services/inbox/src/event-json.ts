import type { z } from 'zod';
import { toIsoMillis, type DeliveryAttempt, type JsonObject, type JsonText, type StoredEvent } from '@triggers/core/domain';
import type { attemptSchema, eventSchema } from './schemas.ts';

/** The event as the schema describes it, with the payload as its stored text (written out by stringifyJson). */
export type EventJson = Omit<z.output<typeof eventSchema>, 'payload'> & { payload: JsonText<JsonObject> };
export type AttemptJson = z.output<typeof attemptSchema>;

/** The event as the inbox shows it. */
export function toEventJson(event: StoredEvent): EventJson {
  return {
    event_id: event.eventId,
    customer_id: event.customerId,
    payload: event.payload,
    status: event.status,
    timestamp: toIsoMillis(event.timestamp),
    delivery_attempts: event.deliveryAttempts,
    last_delivery_timestamp: event.lastDeliveryTimestamp === null ? null : toIsoMillis(event.lastDeliveryTimestamp),
  };
}

/** One delivery attempt; the response body and delivery id stay internal. */
export function toAttemptJson(attempt: DeliveryAttempt): AttemptJson {
  return {
    workflow_id: attempt.workflowId,
    attempt: attempt.attempt,
    status: attempt.status,
    status_code: attempt.statusCode,
    error: attempt.error,
    duration_ms: attempt.durationMs,
    timestamp: toIsoMillis(attempt.timestamp),
  };
}
