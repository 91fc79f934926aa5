import { processMessageSpan, startConsumer, type ServiceContext } from '@triggers/core/runtime';
import type { EventMessage } from '@triggers/core/ports';
import { SubscriptionCache } from './subscription-cache.ts';
import { matchEvent } from './match-event.ts';
import { matcherMetrics } from './metrics.ts';
import { startSweeper } from './sweeper.ts';
import { UnmatchedBatch } from './status-batch.ts';

export interface RunningMatcher {
  stop(): Promise<void>;
}

/** Consumes the `events` queue and runs the pending sweeper. */
export function startMatcher(ctx: ServiceContext, options: { concurrency?: number } = {}): RunningMatcher {
  const log = ctx.log.child({ component: 'matcher' });
  const deps = {
    eventStore: ctx.backends.eventStore,
    deliveryStore: ctx.backends.deliveryStore,
    queue: ctx.backends.queue,
    subscriptions: new SubscriptionCache(ctx.backends.metadataStore, ctx.clock, log),
    unmatched: new UnmatchedBatch(ctx.backends.deliveryStore),
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
    handle: (message) =>
      processMessageSpan(ctx.backends.queue.kind, 'events', message, { 'triggers.event_id': message.body.eventId, 'triggers.customer_id': message.body.customerId }, () =>
        matchEvent(deps, message.body),
      ),
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
  return {
    async stop() {
      sweeper.stop();
      await consumer.stop();
    },
  };
}
