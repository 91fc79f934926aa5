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
 * The outbox: stores events as `pending` and enqueues `events` messages for them: one per event,
 * or one for several events of a customer (`EventMessage.eventIds`; the ids are read with
 * `eventIdsOf`).
 *
 * Semantics (checked by the conformance suite, testkit's event-acceptor.conformance.ts):
 * - When `accept` resolves, every event is durably stored as `pending` and enqueued (or, where
 *   store and queue are different engines, stored and either enqueued or left for the pending
 *   sweeper), and the idempotency key, if any, is completed with the response.
 * - When it rejects (a `DependencyError`), none of the call's events was stored or enqueued.
 * - Concurrent calls are group-committed: many requests share one transaction and one fsync.
 * - `close` settles every call made before it, then refuses new calls with a `DependencyError`.
 */
export interface EventAcceptor {
  accept(acceptance: Acceptance): Promise<void>;
  close(): Promise<void>;
}
