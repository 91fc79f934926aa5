import type { DeliveryRecord, DeliveryStatus } from '../../ports/delivery-store.ts';

/** The `deliveries` row as the SQL adapters (SQLite, PostgreSQL) read it, and its mapping to the domain. */

export interface DeliveryRow {
  delivery_id: string;
  event_id: string;
  customer_id: string;
  workflow_id: string;
  status: DeliveryStatus;
  attempts_made: number;
  next_attempt_at: number;
  failure_reason: string | null;
  created_at: number;
  updated_at: number;
  replay_id: string | null;
}

export function toDeliveryRecord(row: DeliveryRow): DeliveryRecord {
  return {
    deliveryId: row.delivery_id,
    eventId: row.event_id,
    customerId: row.customer_id,
    workflowId: row.workflow_id,
    status: row.status,
    attemptsMade: row.attempts_made,
    nextAttemptAt: row.next_attempt_at,
    failureReason: row.failure_reason,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    replayId: row.replay_id ?? null,
  };
}
