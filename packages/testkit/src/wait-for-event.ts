import { setTimeout as sleep } from 'node:timers/promises';
import type { HttpClient } from '@triggers/core/testing';

/** `GET /api/v1/events/{id}` as the API answers it. */
export interface EventWithAttempts {
  event_id: string;
  customer_id: string;
  payload: Record<string, unknown>;
  status: 'pending' | 'delivered' | 'failed' | 'unmatched';
  timestamp: string;
  delivery_attempts: number;
  last_delivery_timestamp: string | null;
  attempts: Array<{
    workflow_id: string;
    attempt: number;
    status: 'succeeded' | 'failed' | 'retrying';
    status_code: number | null;
    error: string | null;
    duration_ms: number;
    timestamp: string;
  }>;
  /** Each delivery's progress: attempts made, and when the next is due while it is pending. */
  deliveries: Array<{
    workflow_id: string;
    status: 'pending' | 'succeeded' | 'failed';
    attempts_made: number;
    next_attempt_at: string | null;
    failure_reason: string | null;
    created_at: string;
  }>;
}

export interface WaitForEventOptions {
  /** Default 10 s. */
  timeoutMs?: number;
  /** Default 20 ms. */
  intervalMs?: number;
  /** A further condition on the event, e.g. that every subscription's attempt was recorded. */
  until?: (event: EventWithAttempts) => boolean;
  /** Called with every event read, e.g. to record the statuses it went through. */
  onPoll?: (event: EventWithAttempts) => void;
}

/**
 * Polls the public API until the event has `status` (and `until` holds); returns that reading.
 * Fails with the last reading when it does not get there in time.
 */
export async function waitForEventStatus(
  server: Pick<HttpClient, 'request'>,
  apiKey: string,
  eventId: string,
  status: EventWithAttempts['status'],
  options: WaitForEventOptions = {},
): Promise<EventWithAttempts> {
  const { timeoutMs = 10_000, intervalMs = 20, until, onPoll } = options;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const response = await server.request('GET', `/api/v1/events/${eventId}`, { apiKey });
    if (response.status !== 200) throw new Error(`GET /api/v1/events/${eventId}: ${response.status} ${response.text}`);
    const event = response.body as EventWithAttempts;
    onPoll?.(event);
    if (event.status === status && (!until || until(event))) return event;
    last = event;
    if (Date.now() >= deadline) {
      throw new Error(`Event ${eventId} did not reach ${status}${until ? ' (with the extra condition)' : ''} within ${timeoutMs} ms; last read: ${JSON.stringify(last)}`);
    }
    await sleep(intervalMs);
  }
}
