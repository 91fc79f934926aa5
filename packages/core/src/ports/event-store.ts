import type { DeliveryAttempt, EventStatus, NewEvent, StoredEvent } from '../domain/events.ts';

export interface InboxQuery {
  eventType?: string;
  status?: EventStatus;
  /** Inclusive, epoch ms. */
  startTime?: number;
  /** Exclusive, epoch ms. */
  endTime?: number;
  /** 1..1000 */
  limit: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor?: string;
}

export interface InboxPage {
  /** Newest first (descending event_id, which is time order for UUIDv7). */
  events: StoredEvent[];
  /** Null when there are no more matching events. */
  nextCursor: string | null;
}

/**
 * Where events and their delivery attempts live.
 *
 * Semantics every adapter guarantees (checked by the conformance suite in packages/testkit):
 * - `insertEvents` is atomic for the whole batch: all rows are stored, or none (and it throws).
 *   Where the engine caps one atomic write (`maxAtomicBatch`), batches up to that size are atomic;
 *   the adapter documents what a larger batch does, and callers that need atomicity stay below it.
 * - Reads are scoped by customer: another customer's event id reads as absent.
 * - `listEvents` is keyset-paginated newest first; following `nextCursor` until null visits every
 *   event that existed when paging began exactly once, even while new events are inserted.
 *   A cursor that cannot be decoded throws `TriggersError('invalid_request')`.
 * - Attempts are recorded, and statuses settled after ingest, by the DeliveryStore (its
 *   `recordAttempts`, `finishDelivery`, `settleUnmatched`): one call, one transaction, one owner.
 * - Backend failures throw `DependencyError`.
 */
export interface EventStore {
  readonly kind: string;
  /** The most events one `insertEvents` writes atomically (DynamoDB: 100). Unset: no limit. */
  readonly maxAtomicBatch?: number;
  insertEvents(events: NewEvent[]): Promise<void>;
  getEvent(customerId: string, eventId: string): Promise<StoredEvent | null>;
  listEvents(customerId: string, query: InboxQuery): Promise<InboxPage>;
  /** Sets the status; with `onlyFrom`, only when the current status is one of those. Returns whether it changed. */
  setStatus(customerId: string, eventId: string, status: EventStatus, onlyFrom?: EventStatus[]): Promise<boolean>;
  /** Oldest first. */
  listAttempts(customerId: string, eventId: string): Promise<DeliveryAttempt[]>;
  /** Events still `pending` whose timestamp is before `olderThan` (for the sweeper), oldest first. */
  listStalePending(olderThan: number, limit: number): Promise<StoredEvent[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
