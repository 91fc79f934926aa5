import { uuidv7LowerBound, uuidv7Time, type EventStatus, type StoredEvent } from '@triggers/core/domain';
import type { EventStore } from '@triggers/core/ports';

/** The inbox filters a stream applies in the store (a selector is applied by the caller). */
export interface TailFilter {
  eventType?: string;
  status?: EventStatus;
}

/** Events read per store query; also the most one `readNext` returns (bounded memory per stream). */
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
    /** The last event id already handed out (or a lower bound such as `uuidv7LowerBound(t)`). */
    private position: string,
  ) {}

  get lastEventId(): string {
    return this.position;
  }

  /**
   * The next events after the position whose id time is at most `horizonMs`, oldest first, at most
   * about one page; advances the position past them. Empty when there are none yet.
   */
  async readNext(horizonMs: number): Promise<StoredEvent[]> {
    const start = uuidv7Time(this.position);
    const limitEnd = horizonMs + 1;
    if (limitEnd <= start) return [];
    let end = Math.min(limitEnd, start + Math.max(1, this.width * 2));
    for (;;) {
      const page = await this.store.listEvents(this.customerId, { ...this.filter, startTime: start, endTime: end, limit: TAIL_PAGE });
      let events: StoredEvent[] | undefined;
      if (page.nextCursor === null) events = page.events;
      else if (end - start <= 1) events = await this.readWholeMillisecond(start, page.events, page.nextCursor);
      if (events) {
        this.width = end - start;
        const after = this.position;
        const newer = events.filter((e) => e.eventId > after).sort((a, b) => (a.eventId < b.eventId ? -1 : 1));
        // Nothing newer in this window: the next read starts at its end (ids there are all newer).
        if (newer.length === 0) {
          this.position = uuidv7LowerBound(end);
          return [];
        }
        this.position = newer[newer.length - 1].eventId;
        return newer;
      }
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
