import type {
  AcceptedEvent,
  BatchAcceptedEvent,
  EventPayload,
  EventWithAttempts,
  InboxEvent,
  InboxPage,
  InboxQuery,
  ReplayAccepted,
  RotatedSecret,
  Subscription,
  SubscriptionCreateBody,
  SubscriptionListQuery,
  SubscriptionPage,
  SubscriptionUpdateBody,
  SubscriptionWithSecret,
  StreamedEvent,
} from './api.gen.ts';
import { streamEvents, type StreamOptions } from './event-stream.ts';
import { newIdempotencyKey, Transport, type ClientOptions, type RequestOptions } from './transport.ts';
import { TriggersError } from './errors.ts';
import { ReplaysResource } from './replays.ts';

/** The API's batch limit: `sendBatch` splits larger lists into requests of this many events. */
export const MAX_BATCH_EVENTS = 500;

export interface SendOptions extends RequestOptions {
  /**
   * 1–255 printable ASCII characters. One is generated per call when absent, so the SDK's own
   * retries never create a second event; pass your own to make your retries safe across processes.
   */
  idempotencyKey?: string;
}

/**
 * A client for one customer's API key.
 *
 * ```ts
 * const triggers = new Triggers({ baseUrl: 'http://localhost:8080', apiKey: process.env.TRIGGERS_API_KEY! });
 * const { event_id } = await triggers.events.send({ event_type: 'order.created', order_id: 42 });
 * ```
 */
export class Triggers {
  readonly events: EventsResource;
  readonly inbox: InboxResource;
  readonly subscriptions: SubscriptionsResource;
  readonly replays: ReplaysResource;

  constructor(options: ClientOptions) {
    const transport = new Transport(options);
    this.events = new EventsResource(transport);
    this.inbox = new InboxResource(transport);
    this.subscriptions = new SubscriptionsResource(transport);
    this.replays = new ReplaysResource(transport);
  }
}

export class EventsResource {
  constructor(private readonly transport: Transport) {}

  /** `POST /api/v1/events`: stores one event (202). Retried safely: the same idempotency key every time. */
  send(payload: EventPayload, options: SendOptions = {}): Promise<AcceptedEvent> {
    const key = options.idempotencyKey ?? newIdempotencyKey();
    return this.transport.request<AcceptedEvent>(
      { method: 'POST', path: '/api/v1/events', body: { payload }, headers: { 'idempotency-key': key }, idempotent: true },
      options,
    );
  }

  /**
   * `POST /api/v1/events/batch`, in requests of at most 500 events, one after another; the
   * accepted events in input order. Each request has its own idempotency key (derived from
   * `idempotencyKey` as `<key>-<n>` when given). A request the server refuses as larger than the
   * customer's burst (`413 payload_too_large`, which stores nothing) is sent again split into
   * requests of the `max_events` it names, keyed `<request key>.<m>`. A failed request throws; the
   * requests before it stay accepted (the error's `acceptedSoFar` lists them).
   */
  async sendBatch(payloads: readonly EventPayload[], options: SendOptions = {}): Promise<BatchAcceptedEvent[]> {
    const accepted: BatchAcceptedEvent[] = [];
    try {
      for (let start = 0, n = 0; start < payloads.length; start += MAX_BATCH_EVENTS, n++) {
        const key = options.idempotencyKey === undefined ? newIdempotencyKey() : `${options.idempotencyKey}-${n}`;
        await this.sendChunk(payloads.slice(start, start + MAX_BATCH_EVENTS), key, options, accepted);
      }
    } catch (error) {
      Object.assign(error as object, { acceptedSoFar: accepted });
      throw error;
    }
    return accepted;
  }

  private async sendChunk(chunk: readonly EventPayload[], key: string, options: SendOptions, accepted: BatchAcceptedEvent[]): Promise<void> {
    try {
      const result = await this.transport.request<{ events: BatchAcceptedEvent[] }>(
        { method: 'POST', path: '/api/v1/events/batch', body: { events: chunk.map((payload) => ({ payload })) }, headers: { 'idempotency-key': key }, idempotent: true },
        options,
      );
      accepted.push(...result.events);
    } catch (error) {
      const max = burstLimit(error);
      if (max === null || max >= chunk.length) throw error;
      for (let start = 0, m = 0; start < chunk.length; start += max, m++) {
        await this.sendChunk(chunk.slice(start, start + max), `${key}.${m}`, options, accepted);
      }
    }
  }

  /** `GET /api/v1/events/{id}`: the event and its delivery attempts (oldest first). */
  get(eventId: string, options: RequestOptions = {}): Promise<EventWithAttempts> {
    return this.transport.request({ method: 'GET', path: `/api/v1/events/${encodeURIComponent(eventId)}`, idempotent: true }, options);
  }

  /** `POST /api/v1/events/{id}/replay`: matches the event again and delivers it to what matches now. */
  replay(eventId: string, options: RequestOptions = {}): Promise<ReplayAccepted> {
    return this.transport.request({ method: 'POST', path: `/api/v1/events/${encodeURIComponent(eventId)}/replay`, idempotent: false }, options);
  }

  /**
   * `GET /api/v1/events/stream`: the events as they are accepted, oldest first, reconnecting by
   * itself without gap or repeat. `for await (const event of triggers.events.stream({ event_type: 'order.created' }))`.
   */
  stream(options: StreamOptions = {}): AsyncGenerator<StreamedEvent> {
    return streamEvents(this.transport, options);
  }
}

export type InboxListOptions = Omit<InboxQuery, 'cursor'> & { cursor?: string | null } & RequestOptions;

export class InboxResource {
  constructor(private readonly transport: Transport) {}

  /** `GET /api/v1/inbox`: one page, newest first. */
  list(options: InboxListOptions = {}): Promise<InboxPage> {
    const { signal, timeoutMs, ...query } = options;
    return this.transport.request({ method: 'GET', path: '/api/v1/inbox', query, idempotent: true }, { signal, timeoutMs });
  }

  /**
   * Every matching event, newest first, following cursors until `has_more` is false: each event
   * exactly once, even while new ones arrive (those newer than the first page are not included).
   */
  iterate(options: Omit<InboxListOptions, 'cursor'> = {}): AsyncGenerator<InboxEvent> {
    return everyItem((cursor) => this.list({ ...options, cursor }), (page) => page.events);
  }
}

export type SubscriptionListOptions = Omit<SubscriptionListQuery, 'cursor'> & { cursor?: string | null } & RequestOptions;

export class SubscriptionsResource {
  constructor(private readonly transport: Transport) {}

  /** `POST /api/v1/subscriptions`; the answer carries the signing `secret`, shown only here and by `rotateSecret`. */
  create(body: SubscriptionCreateBody, options: RequestOptions = {}): Promise<SubscriptionWithSecret> {
    return this.transport.request({ method: 'POST', path: '/api/v1/subscriptions', body, idempotent: false }, options);
  }

  list(options: SubscriptionListOptions = {}): Promise<SubscriptionPage> {
    const { signal, timeoutMs, ...query } = options;
    return this.transport.request({ method: 'GET', path: '/api/v1/subscriptions', query, idempotent: true }, { signal, timeoutMs });
  }

  /** Every subscription, newest first, following cursors. */
  iterate(options: Omit<SubscriptionListOptions, 'cursor'> = {}): AsyncGenerator<Subscription> {
    return everyItem((cursor) => this.list({ ...options, cursor }), (page) => page.subscriptions);
  }

  get(workflowId: string, options: RequestOptions = {}): Promise<Subscription> {
    return this.transport.request({ method: 'GET', path: `/api/v1/subscriptions/${encodeURIComponent(workflowId)}`, idempotent: true }, options);
  }

  update(workflowId: string, patch: SubscriptionUpdateBody, options: RequestOptions = {}): Promise<Subscription> {
    // The same patch twice leaves the same state: safe to repeat after a lost answer.
    return this.transport.request({ method: 'PATCH', path: `/api/v1/subscriptions/${encodeURIComponent(workflowId)}`, body: patch, idempotent: true }, options);
  }

  /** `status: "disabled"`: it stops matching new events (deliveries in flight finish). */
  disable(workflowId: string, options: RequestOptions = {}): Promise<Subscription> {
    return this.update(workflowId, { status: 'disabled' }, options);
  }

  delete(workflowId: string, options: RequestOptions = {}): Promise<void> {
    return this.transport.request({ method: 'DELETE', path: `/api/v1/subscriptions/${encodeURIComponent(workflowId)}`, idempotent: true }, options);
  }

  /** A new secret; the previous one keeps signing too for 24 h. */
  rotateSecret(workflowId: string, options: RequestOptions = {}): Promise<RotatedSecret> {
    return this.transport.request({ method: 'POST', path: `/api/v1/subscriptions/${encodeURIComponent(workflowId)}/rotate-secret`, idempotent: false }, options);
  }
}

/** A listing's items, page after page, following cursors until a page says `has_more: false`. */
async function* everyItem<Page extends { has_more: boolean; cursor: string | null }, Item>(
  list: (cursor: string | null | undefined) => Promise<Page>,
  items: (page: Page) => Item[],
): AsyncGenerator<Item> {
  let cursor: string | null | undefined;
  do {
    const page = await list(cursor);
    yield* items(page);
    cursor = page.has_more ? page.cursor : null;
  } while (cursor);
}

/** The `max_events` of a `413 payload_too_large` (a batch larger than the burst), else null. */
function burstLimit(error: unknown): number | null {
  if (!(error instanceof TriggersError) || error.status !== 413 || error.code !== 'payload_too_large') return null;
  const max = (error.problem as { max_events?: unknown } | null)?.max_events;
  return typeof max === 'number' && Number.isInteger(max) && max >= 1 ? max : null;
}
