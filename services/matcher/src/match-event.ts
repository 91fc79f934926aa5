import { deliveryMessage, type DeliveryRecord, type EventStore, type DeliveryStore, type Queue, type EventMessage, type ReplayStore } from '@triggers/core/ports';
import { deliveryIdFor, selectorMatchesPayload, uuidv7Time, type Clock } from '@triggers/core/domain';
import { ROOT_CONTEXT, contextOfSpan, sendMessagesSpan, traceLogFieldsOf, traceparentOf, type Context, type Logger, type Span } from '@triggers/core/runtime';
import type { SubscriptionCache } from './subscription-cache.ts';
import type { MatcherMetrics } from './metrics.ts';
import type { UnmatchedBatch } from './status-batch.ts';

export interface MatcherDeps {
  eventStore: EventStore;
  deliveryStore: DeliveryStore;
  queue: Queue;
  subscriptions: SubscriptionCache;
  /** Where `unmatched` settles go (batched into one store call per turn). */
  unmatched: UnmatchedBatch;
  /** Where a replayed event's outcome is counted (the job's `processed`, `unmatched`, `deliveries`). */
  replays: Pick<ReplayStore, 'recordProcessed'>;
  clock: Clock;
  log: Logger;
  metrics: MatcherMetrics;
}

/**
 * Matches one event against its customer's active subscriptions: marks it `unmatched`, or records
 * one delivery per matched subscription and enqueues it. Idempotent: delivery ids derive from
 * (event, subscription, replay), so a redelivered message re-enqueues the same pending deliveries
 * (which the deliverer recognises) and creates nothing new.
 */
/**
 * The trace an event is matched in, passed explicitly (the matcher runs no AsyncLocalStorage):
 * `span` gets the match's attributes, `parent` is what the deliveries' send span continues (`span`'s
 * own context when not given: made only when there are deliveries to send).
 */
export interface MatchTrace {
  span?: Span;
  parent?: Context;
}

export async function matchEvent(deps: MatcherDeps, message: EventMessage, traced: MatchTrace = {}): Promise<void> {
  const isReplay = message.replayId !== undefined;
  if (!isReplay) {
    // A customer without active subscriptions needs no payload: settle without reading the event.
    // (An event's timestamp is the time in its UUIDv7 id.)
    const active = await deps.subscriptions.forEvent(message.customerId, uuidv7Time(message.eventId));
    if (active.length === 0) {
      deps.metrics.eventsMatched.inc({ outcome: 'unmatched' });
      traced.span?.setAttribute('triggers.matched_subscriptions', 0);
      await deps.unmatched.settle({ customerId: message.customerId, eventId: message.eventId });
      return;
    }
  }
  const event = await deps.eventStore.getEvent(message.customerId, message.eventId);
  if (!event) {
    deps.log.warn({ ...traceLogFieldsOf(traced.span), eventId: message.eventId }, 'Dropped a message for an unknown event');
    await countReplayed(deps, message, 0);
    return;
  }
  if (!isReplay && event.status !== 'pending') return; // already settled by an earlier run

  const active = await deps.subscriptions.forEvent(event.customerId, isReplay ? deps.clock.now() : event.timestamp);
  const only = message.replayWorkflowId;
  const matched = active.filter((s) => (only === undefined || s.subscription.workflowId === only) && selectorMatchesPayload(s.selector, event.payload));
  deps.metrics.eventsMatched.inc({ outcome: matched.length > 0 ? 'matched' : 'unmatched' });
  traced.span?.setAttribute('triggers.matched_subscriptions', matched.length);

  if (matched.length === 0) {
    // A replay matching nothing leaves an event with earlier deliveries as it is (the store checks).
    await deps.unmatched.settle({ customerId: event.customerId, eventId: event.eventId });
    await countReplayed(deps, message, 0);
    return;
  }

  const now = deps.clock.now();
  const records = await deps.deliveryStore.createDeliveries(
    matched.map(({ subscription }) => ({
      deliveryId: deliveryIdFor(event.eventId, subscription.workflowId, message.replayId),
      eventId: event.eventId,
      customerId: event.customerId,
      workflowId: subscription.workflowId,
      createdAt: now,
      replayId: message.replayId ?? null,
    })),
  );
  if (isReplay) await deps.eventStore.setStatus(event.customerId, event.eventId, 'pending', ['failed', 'unmatched']);
  const pending = records.filter((r) => r.status === 'pending');
  if (pending.length > 0) await sendDeliveries(deps, message, event, pending, now, traced);
  // Counted once the deliveries are on their way: a crash before this repeats the message, not the count.
  await countReplayed(deps, message, records.length);
}

/** A replayed event's outcome, counted on its job once (the store ignores a repeat). */
async function countReplayed(deps: MatcherDeps, message: EventMessage, deliveries: number): Promise<void> {
  if (message.replayId === undefined) return;
  await deps.replays.recordProcessed([{ replayId: message.replayId, eventId: message.eventId, deliveries }]);
}

async function sendDeliveries(
  deps: MatcherDeps,
  message: EventMessage,
  event: { eventId: string; customerId: string },
  pending: readonly DeliveryRecord[],
  now: number,
  traced: MatchTrace,
): Promise<void> {
  // Each delivery carries the enqueue span's context: one trace, one branch per subscription.
  await sendMessagesSpan(
    deps.queue.kind,
    'deliveries',
    pending.length,
    { 'triggers.event_id': event.eventId, 'triggers.customer_id': event.customerId },
    (span) => {
      const traceparent = traceparentOf(span) ?? message.traceparent;
      return deps.queue.sendBatch('deliveries', pending.map((r) => deliveryMessage(r, { delayMs: r.nextAttemptAt - now, traceparent })));
    },
    traced.parent ?? (traced.span ? contextOfSpan(traced.span) : ROOT_CONTEXT),
  );
}
