import type { NewEvent } from '../domain/events.ts';
import type { StoredResponse } from './idempotency-store.ts';

export interface Acceptance {
  events: NewEvent[];
  /** Completes this idempotency key with the response, in the same write where the backend allows. */
  idempotency?: { customerId: string; key: string; response: StoredResponse; ttlMs: number };
  /** W3C trace context of the accepting request, copied into every `EventMessage`. */
  traceparent?: string;
}

/**
 * The outbox: stores events as `pending` and enqueues one `events` message per event.
 *
 * When it resolves, every event is durably stored and enqueued (or, where store and queue are
 * different engines, stored and either enqueued or left for the pending sweeper). Concurrent
 * calls are group-committed: many requests share one transaction and one fsync.
 * On failure it throws and nothing was accepted.
 */
export interface EventAcceptor {
  accept(acceptance: Acceptance): Promise<void>;
}
