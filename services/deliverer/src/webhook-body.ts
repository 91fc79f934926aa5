import { stringifyJson, toIsoMillis, type StoredEvent } from '@triggers/core/domain';

/** The delivery body of API.md: a JSON array of events, each payload as its stored text. */
export function webhookBody(events: StoredEvent[]): string {
  return stringifyJson(
    events.map((e) => ({ event_id: e.eventId, customer_id: e.customerId, payload: e.payload, timestamp: toIsoMillis(e.timestamp) })),
  );
}
