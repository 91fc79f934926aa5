import type { DeliveryRecord } from './delivery-store.ts';
import type { OutgoingMessage } from './queue.ts';

/**
 * What travels on each topic, and the one place its messages are built: the acceptors, the
 * sweeper, replay and the matcher send `events` messages; the matcher, the sweeper and the
 * deliverer send `deliveries` messages. Keys keep one customer's events, and one subscription's
 * deliveries, in order where the queue orders by key (Kafka partitions).
 */

/** The body of an `events` message: match this stored event. */
export interface EventMessage {
  /** The event (the first one when the message stands for several). */
  eventId: string;
  customerId: string;
  /**
   * Set when the message stands for several events of the customer accepted together (the SQLite
   * acceptor writes one message per customer and group commit): every id, `eventId` first. The
   * matcher matches each; read the ids with `eventIdsOf`.
   */
  eventIds?: string[];
  /** W3C trace context of the request that accepted the event (of all of `eventIds`, when set with them). */
  traceparent?: string;
  /**
   * Set instead of `traceparent` when the events of one message came from requests with different
   * trace contexts (a group commit of concurrent single-event requests with tracing on): the W3C
   * context of each event, parallel to `eventIds` (`''` for none). Read with `eventTraceparentOf`.
   */
  traceparents?: string[];
  /** Set by a replay: the matcher creates new deliveries (new `webhook-id`s) for it. */
  replayId?: string;
  /** Set by a bulk replay filtered by subscription: deliver only to this one (if it matches now). */
  replayWorkflowId?: string;
}

/** The body of a `deliveries` message: attempt `attempt` of one delivery, or of one batch. */
export interface DeliveryMessage {
  deliveryId: string;
  eventId: string;
  customerId: string;
  workflowId: string;
  /** 1-based. The deliverer ignores a message whose attempt was already made. */
  attempt: number;
  /**
   * Set on the retry of a batched request: every member is re-sent together under the same
   * `webhook-id` (`batchId`). `deliveryId`/`eventId` then name the first member.
   */
  batch?: { batchId: string; deliveryIds: string[] };
  /**
   * Set by the deliverer that ended the head of a FIFO subscription, on the message of the next
   * delivery in order: if that one was never attempted, it goes now even though its due time was
   * moved while it waited behind the head.
   */
  released?: boolean;
  traceparent?: string;
}

/** The `events` message for one stored event. */
export function eventMessage(event: { eventId: string; customerId: string }, options: { traceparent?: string; replayId?: string; replayWorkflowId?: string } = {}): OutgoingMessage {
  const body: EventMessage = { eventId: event.eventId, customerId: event.customerId };
  if (options.traceparent !== undefined) body.traceparent = options.traceparent;
  if (options.replayId !== undefined) body.replayId = options.replayId;
  if (options.replayWorkflowId !== undefined) body.replayWorkflowId = options.replayWorkflowId;
  return { body, key: event.customerId };
}

/** The most events one `events` message stands for (a redelivery repeats the work of all of them). */
export const MAX_EVENTS_PER_MESSAGE = 500;

/**
 * The `events` messages for stored events of one customer: one per `MAX_EVENTS_PER_MESSAGE` ids
 * (a single id gives the plain one-event message), in order. `traceparents` (parallel to
 * `eventIds`) gives each event its own trace context; a message whose events share one (or none)
 * carries it as `traceparent`.
 */
export function eventGroupMessages(customerId: string, eventIds: readonly string[], options: { traceparent?: string; traceparents?: readonly (string | undefined)[] } = {}): OutgoingMessage[] {
  const messages: OutgoingMessage[] = [];
  for (let i = 0; i < eventIds.length; i += MAX_EVENTS_PER_MESSAGE) {
    const ids = eventIds.slice(i, i + MAX_EVENTS_PER_MESSAGE);
    const contexts = options.traceparents?.slice(i, i + MAX_EVENTS_PER_MESSAGE);
    const shared = contexts === undefined || contexts.every((c) => c === contexts[0]);
    const message = eventMessage({ eventId: ids[0], customerId }, { traceparent: shared ? (contexts?.[0] ?? options.traceparent) : undefined });
    if (ids.length > 1) (message.body as EventMessage).eventIds = ids;
    if (!shared) (message.body as EventMessage).traceparents = contexts!.map((c) => c ?? '');
    messages.push(message);
  }
  return messages;
}

/** The ids of the events an `events` message stands for. */
export function eventIdsOf(message: EventMessage): string[] {
  return message.eventIds ?? [message.eventId];
}

/** The trace context of the `index`th event of `eventIdsOf(message)`, if it has one. */
export function eventTraceparentOf(message: EventMessage, index: number): string | undefined {
  return message.traceparents ? message.traceparents[index] || undefined : message.traceparent;
}

/**
 * The `deliveries` message for the next attempt of one delivery, or of a batch sent together
 * under `batchId` (its `webhook-id`; a single delivery's own id needs no batch), due in `delayMs`.
 */
export function deliveryMessage(
  deliveries: DeliveryRecord | readonly DeliveryRecord[],
  options: { delayMs: number; traceparent?: string; batchId?: string; released?: boolean },
): OutgoingMessage {
  const members = Array.isArray(deliveries) ? (deliveries as readonly DeliveryRecord[]) : [deliveries as DeliveryRecord];
  const [first] = members;
  const body: DeliveryMessage = {
    deliveryId: first.deliveryId,
    eventId: first.eventId,
    customerId: first.customerId,
    workflowId: first.workflowId,
    attempt: first.attemptsMade + 1,
  };
  const batchId = options.batchId ?? first.deliveryId;
  if (members.length > 1 || batchId !== first.deliveryId) body.batch = { batchId, deliveryIds: members.map((d) => d.deliveryId) };
  if (options.released) body.released = true;
  if (options.traceparent) body.traceparent = options.traceparent;
  return { body, key: first.workflowId, delayMs: Math.max(0, Math.round(options.delayMs)) };
}
