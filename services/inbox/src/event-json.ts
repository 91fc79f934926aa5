import type { z } from 'zod';
import { toIsoMillis, type DeliveryAttempt, type JsonObject, type JsonText, type StoredEvent } from '@triggers/core/domain';
import type { DeliveryRecord } from '@triggers/core/ports';
import type { attemptSchema, deliverySchema, eventSchema } from './schemas.ts';

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

/** One delivery's progress: attempts made and when the next one is due. */
export function toDeliveryJson(delivery: DeliveryRecord): z.output<typeof deliverySchema> {
  return {
    workflow_id: delivery.workflowId,
    status: delivery.status,
    attempts_made: delivery.attemptsMade,
    next_attempt_at: delivery.status === 'pending' ? toIsoMillis(delivery.nextAttemptAt) : null,
    failure_reason: delivery.failureReason,
    created_at: toIsoMillis(delivery.createdAt),
  };
}
