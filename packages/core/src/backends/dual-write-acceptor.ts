import type { Acceptance, EventAcceptor } from '../ports/event-acceptor.ts';
import { eventMessage } from '../ports/queue-messages.ts';
import type { EventStore } from '../ports/event-store.ts';
import type { Queue } from '../ports/queue.ts';
import type { IdempotencyStore } from '../ports/idempotency-store.ts';
import type { Logger } from '../log.ts';
import { coerceError, DependencyError } from '../errors.ts';
import { GroupCommit } from './group-commit.ts';

/** Store writes per round trip: PostgreSQL takes a few hundred rows well; DynamoDB caps it lower (below). */
const MAX_GROUP_EVENTS = 500;

/**
 * The acceptor for a store and a queue on different engines: store the events (`pending`), then
 * enqueue their messages. A failed store write rejects and nothing was accepted. A failed enqueue
 * after a successful store still resolves: the events are durable and the pending sweeper
 * (services/matcher/src/sweeper.ts) re-enqueues events left `pending` past its deadline, so
 * nothing acknowledged is lost — it is only late.
 *
 * Calls arriving in one turn of the event loop are grouped (group-commit.ts) into one store write
 * and one send batch, only up to what the store writes atomically (DynamoDB: 100 events), so a
 * group is stored whole or not at all, never in part. A single request larger than that is
 * written alone, with what the store gives such a batch (see its `insertEvents`).
 */
export class DualWriteEventAcceptor implements EventAcceptor {
  private readonly groups: GroupCommit;

  constructor(
    private readonly eventStore: EventStore,
    private readonly queue: Queue,
    private readonly idempotencyStore: IdempotencyStore,
    private readonly log: Logger,
  ) {
    this.groups = new GroupCommit({
      maxGroupEvents: Math.min(MAX_GROUP_EVENTS, eventStore.maxAtomicBatch ?? MAX_GROUP_EVENTS),
      commit: (group) => this.writeGroup(group),
      toError: coerceError,
      closedError: () => new DependencyError('acceptor', 'the event acceptor is closed', { retryable: true }),
    });
  }

  accept(acceptance: Acceptance): Promise<void> {
    return this.groups.submit(acceptance);
  }

  /** Writes everything still waiting, then refuses new calls. */
  close(): Promise<void> {
    return this.groups.close();
  }

  private async writeGroup(group: Acceptance[]): Promise<void> {
    const events = group.flatMap((a) => a.events);
    await this.eventStore.insertEvents(events);
    try {
      await this.queue.sendBatch('events', group.flatMap((a) => a.events.map((e) => eventMessage(e, { traceparent: a.traceparent }))));
    } catch (error) {
      this.log.warn({ err: coerceError(error), events: events.length }, 'Failed to enqueue stored events; the pending sweeper will re-enqueue them');
    }
    await Promise.all(
      group.map(async ({ idempotency }) => {
        if (!idempotency) return;
        await this.idempotencyStore.complete(idempotency.customerId, idempotency.key, idempotency.response, idempotency.ttlMs).catch((error) => {
          // The events are accepted; a lost completion only means a retry with this key gets 409 until the lease ends.
          this.log.warn({ err: coerceError(error) }, 'Failed to complete an idempotency key');
        });
      }),
    );
  }
}
