import type { DeliveryAttempt, EventStatus, JsonObject, StoredEvent } from '../../domain/events.ts';
import { JsonText } from '../../domain/json/json-text.ts';
import { isUuid } from '../../ids.ts';
import { isRecord } from '../cursor.ts';

/** The `events` and `delivery_attempts` rows as the SQL adapters (SQLite, PostgreSQL) read them, and their mapping to the domain. */

export interface EventRow {
  event_id: string;
  customer_id: string;
  event_type: string | null;
  payload: string;
  status: EventStatus;
  timestamp: number;
  delivery_attempts: number;
  last_delivery_timestamp: number | null;
}

export interface AttemptRow {
  event_id: string;
  customer_id: string;
  workflow_id: string;
  delivery_id: string;
  attempt: number;
  status: DeliveryAttempt['status'];
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  timestamp: number;
  response_body: string | null;
}

export function toStoredEvent(row: EventRow): StoredEvent {
  return {
    eventId: row.event_id,
    customerId: row.customer_id,
    eventType: row.event_type,
    payload: new JsonText<JsonObject>(row.payload),
    status: row.status,
    timestamp: row.timestamp,
    deliveryAttempts: row.delivery_attempts,
    lastDeliveryTimestamp: row.last_delivery_timestamp,
  };
}

export function toAttempt(row: AttemptRow): DeliveryAttempt {
  return {
    eventId: row.event_id,
    customerId: row.customer_id,
    workflowId: row.workflow_id,
    deliveryId: row.delivery_id,
    attempt: row.attempt,
    status: row.status,
    statusCode: row.status_code,
    error: row.error,
    durationMs: row.duration_ms,
    timestamp: row.timestamp,
    responseBody: row.response_body,
  };
}

export interface InboxCursor {
  /** The last event id of the previous page; the next page starts strictly below it. */
  before: string;
}

export function isInboxCursor(value: unknown): value is InboxCursor {
  return isRecord(value) && typeof value.before === 'string' && isUuid(value.before);
}
