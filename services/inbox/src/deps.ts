import type { Clock, SsrfAllow } from '@triggers/core/domain';
import type { Logger } from '@triggers/core/runtime';
import type { DeliveryStore, EventStore, MetadataStore, Queue, ReplayStore } from '@triggers/core/ports';

/** What the inbox routes use: ports and a few settings, never a concrete backend. */
export interface InboxDeps {
  clock: Clock;
  log: Logger;
  eventStore: EventStore;
  metadataStore: MetadataStore;
  /** Each delivery's attempts made and next attempt time (GET /events/{id}). */
  deliveryStore: DeliveryStore;
  /** Bulk replay jobs (run by the matcher). */
  replayStore: ReplayStore;
  /** For replays: the `events` queue the matcher consumes. */
  queue: Queue;
  settings: {
    /** Which private addresses a webhook URL may point at. */
    ssrfAllow: SsrfAllow;
    /** The largest request body read by a handler itself. */
    maxBodyBytes: number;
    /** The event stream's limits (config `stream`). */
    stream: { maxPerCustomer: number; heartbeatMs: number; slowClientMs: number };
  };
}
