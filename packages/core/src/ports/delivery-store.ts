import type { DeliveryAttempt, EventStatus } from '../domain/events.ts';

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One event (or batch of events) on its way to one subscription. */
export interface DeliveryRecord {
  /** Sent as `webhook-id`; stable across retries, new for a replay. */
  deliveryId: string;
  eventId: string;
  customerId: string;
  workflowId: string;
  status: DeliveryStatus;
  /** Attempts made so far (an attempt is recorded before the next is scheduled). */
  attemptsMade: number;
  /** When the next attempt is due (epoch ms). A message arriving earlier is re-delayed to it. */
  nextAttemptAt: number;
  /** Why it ended `failed` (e.g. "HTTP 404", "subscription disabled"). */
  failureReason: string | null;
  createdAt: number;
  updatedAt: number;
  /** The bulk replay that made it (its outcome counts in that replay's progress); null for a live delivery. */
  replayId: string | null;
}

export interface NewDelivery {
  deliveryId: string;
  eventId: string;
  customerId: string;
  workflowId: string;
  createdAt: number;
  /** The bulk replay that made it, if any. */
  replayId?: string | null;
}

/** An event by its key. */
export interface EventRef {
  customerId: string;
  eventId: string;
}

/**
 * One attempt of one delivery and what follows from it, recorded by `recordAttempts`.
 * `attempt.attempt` is the attempt number this attempt claimed (`incrementAttempts`).
 */
export interface AttemptOutcome {
  /** The delivery the attempt was made for. (`attempt.deliveryId` is the `webhook-id` sent: a batch's id for a batched request.) */
  deliveryId: string;
  attempt: DeliveryAttempt;
  /** The delivery ends (`succeeded`, or `failed` with why), or its next attempt is due at `nextAttemptAt`. */
  next: { status: 'succeeded' } | { status: 'failed'; reason: string } | { status: 'retrying'; nextAttemptAt: number };
  /** When the outcome is recorded (epoch ms). */
  now: number;
}

/**
 * The matcher's decisions and the deliverer's progress: after ingest stores an event `pending`,
 * this store is the one owner of its status.
 *
 * Semantics (checked by the conformance suite):
 * - `createDeliveries` is idempotent: an existing delivery id is left as it is, so a redelivered
 *   `events` message never creates a second delivery. It returns the records of all given ids.
 * - `recordAttempts` is the one store call per attempt outcome (graphile-worker's
 *   completeJobs/failJobs shape), one transaction for the call (DynamoDB: one per outcome, as
 *   its transactions cannot read): for each outcome it appends the attempt, increments the event's
 *   `deliveryAttempts` and sets its `lastDeliveryTimestamp`, then ends the delivery (settling the
 *   event as `finishDelivery` does) or moves its `nextAttemptAt`. A `retrying` outcome moves
 *   `nextAttemptAt` only while the delivery is pending and no later attempt was claimed (a late
 *   outcome never shortens a newer claim's lease); an ending outcome of an already finished
 *   delivery changes nothing but the attempt and counters (the attempt did happen). It returns the
 *   event's status after each outcome (null for an unknown delivery, whose attempt is not stored).
 * - `settleUnmatched` marks events `unmatched` that are `pending` and have no deliveries, all
 *   in one write; it leaves every other event as it is.
 * - `finishDelivery` ends a pending delivery and, in the same write, settles the event:
 *   `delivered` when any of its deliveries succeeded, `failed` when all ended without success,
 *   else it stays `pending`. Finishing an already finished delivery changes nothing.
 * - `incrementAttempts` raises `attemptsMade` only if it still equals `expected` (compare-and-set),
 *   so two consumers of a duplicated message cannot both make attempt N. With `claimUntil`, the
 *   same write sets `nextAttemptAt` to it: the claim's lease. A claimer that dies before recording
 *   the outcome leaves the delivery pending with `attemptsMade` raised; once the lease has passed,
 *   the redelivered message makes the next attempt instead of being taken for a duplicate.
 * - `listOverdue` finds pending deliveries whose next attempt is overdue by more than `graceMs`
 *   (their queue message was lost between two writes), and events that are still `pending`
 *   without any delivery older than `graceMs` (their `events` message was lost): the sweeper
 *   re-enqueues both. Duplicated messages are harmless (see the deliverer's checks).
 * - `pendingInOrder` lists a subscription's pending deliveries in event order (event id, a
 *   UUIDv7, so order of acceptance; then delivery id), at most `limit`, read consistently (a
 *   delivery finished or created before the call is seen): the first is the head a FIFO
 *   subscription releases.
 */
export interface DeliveryStore {
  readonly kind: string;
  createDeliveries(deliveries: NewDelivery[]): Promise<DeliveryRecord[]>;
  getDelivery(deliveryId: string): Promise<DeliveryRecord | null>;
  listDeliveries(customerId: string, eventId: string): Promise<DeliveryRecord[]>;
  incrementAttempts(deliveryId: string, expected: number, now: number, claimUntil?: number): Promise<boolean>;
  scheduleNextAttempt(deliveryId: string, nextAttemptAt: number): Promise<void>;
  listOverdue(now: number, graceMs: number, limit: number): Promise<{ deliveries: DeliveryRecord[]; eventsWithoutDeliveries: { eventId: string; customerId: string }[] }>;
  finishDelivery(deliveryId: string, outcome: { status: 'succeeded' | 'failed'; reason?: string; now: number }): Promise<{ eventStatus: EventStatus } | null>;
  recordAttempts(outcomes: AttemptOutcome[]): Promise<Array<{ eventStatus: EventStatus } | null>>;
  settleUnmatched(events: EventRef[]): Promise<void>;
  pendingInOrder(workflowId: string, limit: number): Promise<DeliveryRecord[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
