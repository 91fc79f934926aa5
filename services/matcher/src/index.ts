import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { contextFromTraceparent, contextOfSpan, processMessageSpan, startConsumer, type ServiceContext } from '@triggers/core/runtime';
import { eventIdsOf, eventTraceparentOf, type EventMessage } from '@triggers/core/ports';
import { SubscriptionCache } from './subscription-cache.ts';
import { matchEvent } from './match-event.ts';
import { matcherMetrics } from './metrics.ts';
import { startSweeper } from './sweeper.ts';
import { startReplayRunner } from './replay-runner.ts';
import { UnmatchedBatch } from './status-batch.ts';

/** Events of one grouped message matched at once (the consumer's batch size: as many as one receive brings). */
const MATCH_TOGETHER = 64;

export interface RunningMatcher {
  stop(): Promise<void>;
}

/** Consumes the `events` queue and runs the pending sweeper and the bulk replay jobs. */
export function startMatcher(ctx: ServiceContext, options: { concurrency?: number } = {}): RunningMatcher {
  const log = ctx.log.child({ component: 'matcher' });
  const deps = {
    eventStore: ctx.backends.eventStore,
    deliveryStore: ctx.backends.deliveryStore,
    queue: ctx.backends.queue,
    subscriptions: new SubscriptionCache(ctx.backends.metadataStore, ctx.clock, log),
    unmatched: new UnmatchedBatch(ctx.backends.deliveryStore),
    replays: ctx.backends.replayStore,
    clock: ctx.clock,
    log,
    metrics: matcherMetrics(),
  };
  const consumer = startConsumer<EventMessage>({
    queue: ctx.backends.queue,
    topic: 'events',
    log,
    concurrency: options.concurrency ?? ctx.config.matcher.concurrency,
    batchSize: 64,
    visibilityTimeoutMs: ctx.config.queue.visibilityTimeoutMs,
    readiness: ctx.backends.readiness,
    handle: (message) => {
      const ids = eventIdsOf(message.body);
      if (ids.length === 1) {
        // The span is passed on, not made active (no AsyncLocalStorage: see inSpanPassedOn).
        return processMessageSpan(
          ctx.backends.queue.kind,
          'events',
          message,
          { 'triggers.event_id': message.body.eventId, 'triggers.customer_id': message.body.customerId },
          (span) => matchEvent(deps, message.body, { span }),
        );
      }
      // A message for several events of one customer: matched MATCH_TOGETHER at a time (so their
      // unmatched settles batch), yielding to the event loop between those, and acknowledged once
      // all are matched. Events of different requests each continue their own trace: an event's
      // deliveries are sent in its request's trace (its `traceparent`), else in the group span's.
      return processMessageSpan(
        ctx.backends.queue.kind,
        'events',
        message,
        { 'triggers.event_count': ids.length, 'triggers.customer_id': message.body.customerId },
        async (span) => {
          const { eventIds: _all, traceparents: _contexts, ...single } = message.body;
          const groupContext = contextOfSpan(span);
          for (let i = 0; i < ids.length; i += MATCH_TOGETHER) {
            if (i > 0) await yieldToEventLoop();
            await Promise.all(
              ids.slice(i, i + MATCH_TOGETHER).map((eventId, j) => {
                const traceparent = eventTraceparentOf(message.body, i + j);
                const parent = traceparent ? contextFromTraceparent(traceparent) : groupContext;
                return matchEvent(deps, { ...single, eventId, traceparent }, { parent });
              }),
            );
          }
        },
      );
    },
  });
  const graceMs = ctx.config.delivery.pendingSweepAfterMs;
  const sweeper = startSweeper({
    deliveryStore: ctx.backends.deliveryStore,
    queue: ctx.backends.queue,
    clock: ctx.clock,
    log,
    graceMs,
    intervalMs: Math.max(1000, Math.floor(graceMs / 4)),
  });
  const replays = startReplayRunner({
    replayStore: ctx.backends.replayStore,
    eventStore: ctx.backends.eventStore,
    queue: ctx.backends.queue,
    clock: ctx.clock,
    log,
    eventsPerSecond: ctx.config.matcher.replayEventsPerSecond,
  });
  return {
    async stop() {
      sweeper.stop();
      await replays.stop();
      await consumer.stop();
    },
  };
}
