import { toIsoMillis, type StoredEvent } from '@triggers/core/domain';

/** The delivery body of API.md: a JSON array of events. */
export function webhookBody(events: StoredEvent[]): string {
  return JSON.stringify(
    events.map((e) => ({ event_id: e.eventId, customer_id: e.customerId, payload: e.payload, timestamp: toIsoMillis(e.timestamp) })),
  );
}
