import type { Acceptance, EventAcceptor } from '../ports/event-acceptor.ts';
import { eventMessage } from '../ports/queue-messages.ts';
import type { EventStore } from '../ports/event-store.ts';
import type { Queue } from '../ports/queue.ts';
import type { IdempotencyStore } from '../ports/idempotency-store.ts';
import type { Logger } from '../log.ts';
import { coerceError } from '../errors.ts';

interface Waiting {
  acceptance: Acceptance;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** Store writes per round trip: PostgreSQL takes a few hundred rows well; DynamoDB caps it lower (below). */
const MAX_GROUP_EVENTS = 500;

/**
 * The acceptor for a store and a queue on different engines: store the events (`pending`), then
 * enqueue their messages. A failed store write rejects and nothing was accepted. A failed enqueue
 * after a successful store still resolves: the events are durable and the pending sweeper
 * (services/matcher/src/sweeper.ts) re-enqueues events left `pending` past its deadline, so
 * nothing acknowledged is lost — it is only late.
 *
 * Calls arriving in one turn of the event loop are grouped into one store write and one send batch.
 */
export class DualWriteEventAcceptor implements EventAcceptor {
  private waiting: Waiting[] = [];
  private scheduled = false;
  /**
   * Requests are grouped only up to what the store writes atomically (DynamoDB: 100 events), so a
   * group is stored whole or not at all, never in part. A single request larger than that is
   * written alone, with what the store gives such a batch (see its `insertEvents`).
   */
  private readonly maxGroupEvents: number;

  constructor(
    private readonly eventStore: EventStore,
    private readonly queue: Queue,
    private readonly idempotencyStore: IdempotencyStore,
    private readonly log: Logger,
  ) {
    this.maxGroupEvents = Math.min(MAX_GROUP_EVENTS, eventStore.maxAtomicBatch ?? MAX_GROUP_EVENTS);
  }

  accept(acceptance: Acceptance): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ acceptance, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          void this.flush();
        });
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.waiting.length > 0) {
      let events = 0;
      let take = 0;
      while (take < this.waiting.length && (take === 0 || events + this.waiting[take].acceptance.events.length <= this.maxGroupEvents)) {
        events += this.waiting[take].acceptance.events.length;
        take++;
      }
      const group = this.waiting.splice(0, take);
      void this.writeGroup(group);
    }
  }

  private async writeGroup(group: Waiting[]): Promise<void> {
    const events = group.flatMap((w) => w.acceptance.events);
    try {
      await this.eventStore.insertEvents(events);
    } catch (error) {
      for (const w of group) w.reject(coerceError(error));
      return;
    }
    try {
      await this.queue.sendBatch(
        'events',
        group.flatMap((w) => w.acceptance.events.map((e) => eventMessage(e, { traceparent: w.acceptance.traceparent }))),
      );
    } catch (error) {
      this.log.warn({ err: coerceError(error), events: events.length }, 'Failed to enqueue stored events; the pending sweeper will re-enqueue them');
    }
    await Promise.all(
      group.map(async (w) => {
        const idem = w.acceptance.idempotency;
        if (idem) {
          await this.idempotencyStore.complete(idem.customerId, idem.key, idem.response, idem.ttlMs).catch((error) => {
            // The events are accepted; a lost completion only means a retry with this key gets 409 until the lease ends.
            this.log.warn({ err: coerceError(error) }, 'Failed to complete an idempotency key');
          });
        }
        w.resolve();
      }),
    );
  }
}
