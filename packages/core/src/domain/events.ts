import type { JsonText } from './json/json-text.ts';

/** The event as the system stores it. Times are epoch milliseconds inside the code, RFC 3339 at the edge. */
export const EVENT_STATUSES = ['pending', 'delivered', 'failed', 'unmatched'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

export type JsonObject = { [key: string]: unknown };

export interface NewEvent {
  eventId: string; // UUIDv7; its timestamp equals `timestamp`
  customerId: string;
  /** The payload's JSON text as the client sent it (see JsonText): stored and served as is. */
  payload: JsonText<JsonObject>;
  /** `payload.event_type` when it is a string, else null: stored apart so the inbox can filter by index. */
  eventType: string | null;
  timestamp: number;
}

export interface StoredEvent extends NewEvent {
  status: EventStatus;
  deliveryAttempts: number;
  lastDeliveryTimestamp: number | null;
}

export const ATTEMPT_STATUSES = ['succeeded', 'failed', 'retrying'] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

/** One HTTP attempt to deliver one event to one subscription. */
export interface DeliveryAttempt {
  eventId: string;
  customerId: string;
  workflowId: string;
  /** Stable across retries of one delivery; a replay gets a new one. Sent as `webhook-id`. */
  deliveryId: string;
  attempt: number;
  status: AttemptStatus;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  timestamp: number;
  /** The first 1 KiB of the response body. */
  responseBody: string | null;
}

export function eventTypeOf(payload: JsonObject): string | null {
  const t = payload['event_type'];
  return typeof t === 'string' ? t : null;
}
