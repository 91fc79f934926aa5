import type { Clock } from '@triggers/core/clock.ts';
import type { SsrfAllow } from '@triggers/core/config.ts';
import type { Logger } from '@triggers/core/log.ts';
import type { EventStore } from '@triggers/core/ports/event-store.ts';
import type { MetadataStore } from '@triggers/core/ports/metadata-store.ts';
import type { Queue } from '@triggers/core/ports/queue.ts';

/** What the inbox routes use: ports and a few settings, never a concrete backend. */
export interface InboxDeps {
  clock: Clock;
  log: Logger;
  eventStore: EventStore;
  metadataStore: MetadataStore;
  /** For replays: the `events` queue the matcher consumes. */
  queue: Queue;
  settings: {
    /** Which private addresses a webhook URL may point at. */
    ssrfAllow: SsrfAllow;
    /** The largest request body read by a handler itself. */
    maxBodyBytes: number;
  };
}
