import { uuidv7LowerBound, uuidv7Time, type EventStatus, type StoredEvent } from '@triggers/core/domain';
import type { EventStore } from '@triggers/core/ports';

/** The inbox filters a stream applies in the store (a selector is applied by the caller). */
export interface TailFilter {
  eventType?: string;
  status?: EventStatus;
}

/**
 * Events per store query. One `readNext` returns fewer than two pages (more only for a single
 * millisecond holding more), so the memory a stream holds stays bounded.
 */
export const TAIL_PAGE = 100;

/**
 * Reads a customer's events in acceptance order (ascending UUIDv7 ids) strictly after a position,
 * using only the inbox query every event store already has (`listEvents`: newest first, an
 * inclusive start time and an exclusive end time, which are id ranges since ids are UUIDv7).
 *
 * A window [time of the position, end) that holds at most one page is read whole and returned
 * oldest first; a fuller window is halved until it fits, down to one millisecond, which is read
 * whole whatever its size. The width that fitted is kept as the next read's first guess, so a
 * long backlog (a resume after an hour) costs a few queries per page, not a bisection each time.
 */
export class EventTail {
  private width = Number.POSITIVE_INFINITY;

  constructor(
    private readonly store: EventStore,
    private readonly customerId: string,
    private readonly filter: TailFilter,
    /**
     * Everything up to here was handed out: the last event id sent (a client's `Last-Event-ID`)
     * or a millisecond's lower bound (`uuidv7LowerBound(t)`); only ids above it come next.
     */
    private position: string,
  ) {}

  /**
   * The next events after the position whose id time is at most `horizonMs`, oldest first: about
   * one page (`TAIL_PAGE`), fewer only when the horizon was reached. Advances the position past
   * every window it read whole, so quiet stretches cost one query, not one per poll.
   */
  async readNext(horizonMs: number): Promise<StoredEvent[]> {
    const limitEnd = horizonMs + 1;
    const collected: StoredEvent[] = [];
    while (collected.length < TAIL_PAGE) {
      const start = uuidv7Time(this.position);
      if (limitEnd <= start) break;
      const { events, end } = await this.readWindow(start, Math.min(limitEnd, start + Math.max(1, this.width * 2)));
      this.width = end - start;
      const after = this.position;
      collected.push(...events.filter((e) => e.eventId > after).sort((a, b) => (a.eventId < b.eventId ? -1 : 1)));
      // Everything visible before `end` is in hand (and settled: end <= horizon + 1).
      this.position = uuidv7LowerBound(end);
      if (end >= limitEnd) break;
    }
    return collected;
  }

  /** Every event in [start, end), halving `end` while the window holds more than a page. */
  private async readWindow(start: number, end: number): Promise<{ events: StoredEvent[]; end: number }> {
    for (;;) {
      const page = await this.store.listEvents(this.customerId, { ...this.filter, startTime: start, endTime: end, limit: TAIL_PAGE });
      if (page.nextCursor === null) return { events: page.events, end };
      if (end - start <= 1) return { events: await this.readWholeMillisecond(start, page.events, page.nextCursor), end };
      end = start + Math.max(1, Math.floor((end - start) / 2));
    }
  }

  /** Every event of one millisecond (several pages only when a burst put more than a page in it). */
  private async readWholeMillisecond(ms: number, first: StoredEvent[], cursor: string): Promise<StoredEvent[]> {
    const events = [...first];
    let next: string | null = cursor;
    while (next !== null) {
      const page = await this.store.listEvents(this.customerId, { ...this.filter, startTime: ms, endTime: ms + 1, limit: TAIL_PAGE, cursor: next });
      events.push(...page.events);
      next = page.nextCursor;
    }
    return events;
  }
}
