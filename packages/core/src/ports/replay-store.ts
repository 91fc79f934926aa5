import type { EventStatus } from '../domain/events.ts';

export const REPLAY_STATUSES = ['running', 'completed', 'cancelled', 'failed'] as const;
export type ReplayStatus = (typeof REPLAY_STATUSES)[number];

/** Which stored events a bulk replay matches again: the inbox's filters, plus one subscription. */
export interface ReplayFilter {
  /** Inclusive, epoch ms. */
  startTime: number;
  /** Exclusive, epoch ms. */
  endTime: number;
  status?: EventStatus;
  eventType?: string;
  /** Deliver only to this subscription (when it matches the event now). */
  workflowId?: string;
}

export interface ReplayCounts {
  /** Events the filter matched so far (read from the event store). */
  matched: number;
  /** Of those, enqueued for matching again. */
  enqueued: number;
  /** Of the enqueued, matched again by the matcher (each event once). */
  processed: number;
  /**
   * Of the processed, those no subscription matches now (or not the filter's one, or the event is
   * gone): they make no delivery.
   */
  unmatched: number;
  /** Deliveries the replay created: one per processed event and subscription it matches now. */
  deliveries: number;
  /** Of the deliveries, those that succeeded. */
  delivered: number;
  /** Of the deliveries, those that ended without success (retries exhausted, or dead-lettered). */
  failed: number;
}

export interface Replay {
  replayId: string;
  customerId: string;
  filter: ReplayFilter;
  status: ReplayStatus;
  counts: ReplayCounts;
  /** Where the job goes on (an event-store page cursor); null before the first page. */
  cursor: string | null;
  idempotencyKey: string | null;
  /** A hash of the request body, to tell a repeat from a reuse of the key. */
  requestHash: string | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

export type NewReplay = Pick<Replay, 'replayId' | 'customerId' | 'filter' | 'idempotencyKey' | 'requestHash' | 'createdAt'>;

export interface ReplayProgress {
  /** The cursor after the page just enqueued; null when it was the last page. */
  cursor: string | null;
  matched: number;
  enqueued: number;
  /** The last page: the job is `completed`. */
  finished: boolean;
  now: number;
  /** The claim goes on until then. */
  leaseUntil: number;
}

/**
 * Bulk replay jobs, durable so a job survives restarts: the runner claims a running job for a
 * lease, enqueues a page of events, then saves the cursor and counts in one write. A runner that
 * dies loses its lease and another (or the same, restarted) takes the job on from the saved
 * cursor; a page enqueued but not saved is enqueued again, which the matcher's delivery ids make
 * harmless (same replay id, same deliveries).
 *
 * Semantics (checked by the conformance suite):
 * - `createReplay` with an `idempotencyKey` the customer used before creates nothing and returns
 *   the existing job (`created: false`); keys are scoped per customer.
 * - Reads and cancels are scoped by customer: another customer's job is absent (null).
 * - `cancelReplay` ends a running job `cancelled` (a finished one stays as it is) and returns it.
 * - `claimReplay` hands a running job whose lease has passed (or never was) to `owner` until
 *   `now + leaseMs`; two claimers never hold one job at once.
 * - `saveProgress` adds the counts and moves the cursor only while `owner` holds the claim and the
 *   job is running; it returns false otherwise (cancelled, or claimed by another): stop. A job
 *   cancelled while `owner` held it still gets that call's counts, once (the page went out); a job
 *   claimed by another does not (the new owner enqueues the page again and counts it).
 * - `releaseReplay` ends `owner`'s claim at once (a graceful stop), so the next claimer need not
 *   wait out the lease; it changes nothing if `owner` no longer holds the job.
 * - `recordProcessed` counts each (replay, event) once, whatever the number of calls for it: the
 *   first call's `deliveries` is the one kept.
 * - `recordOutcomes` counts each delivery once, whatever the number of calls for it.
 *
 * A job has settled — every webhook it will ever cause has ended — once it is no longer `running`,
 * `processed = enqueued` and `delivered + failed = deliveries` (`replaySettled`).
 */
export interface ReplayStore {
  readonly kind: string;
  createReplay(replay: NewReplay): Promise<{ replay: Replay; created: boolean }>;
  getReplay(customerId: string, replayId: string): Promise<Replay | null>;
  cancelReplay(customerId: string, replayId: string, now: number): Promise<Replay | null>;
  claimReplay(owner: string, now: number, leaseMs: number): Promise<Replay | null>;
  saveProgress(replayId: string, owner: string, progress: ReplayProgress): Promise<boolean>;
  releaseReplay(replayId: string, owner: string): Promise<void>;
  /** The matcher has matched a replayed event again, making `deliveries` deliveries (0: none matched). */
  recordProcessed(processed: Array<{ replayId: string; eventId: string; deliveries: number }>): Promise<void>;
  recordOutcomes(outcomes: Array<{ replayId: string; deliveryId: string; outcome: 'delivered' | 'failed' }>): Promise<void>;
}

/** Every webhook the job will cause has ended (see `ReplayStore`): the end a client waits for. */
export function replaySettled(replay: Pick<Replay, 'status' | 'counts'>): boolean {
  const { enqueued, processed, deliveries, delivered, failed } = replay.counts;
  return replay.status !== 'running' && processed >= enqueued && delivered + failed >= deliveries;
}
