import { startConsumer, createCircuitBreakers, createWebhookSender, processMessageSpan, type ServiceContext } from '@triggers/core/runtime';
import type { DeliveryMessage } from '@triggers/core/ports';
import { deliver, inSpanOf, sendBatch, type DelivererDeps } from './deliver.ts';
import { Batcher } from './batcher.ts';
import { FairShare } from './fair-share.ts';
import { delivererMetrics } from './metrics.ts';
import { SubscriptionCache } from './subscription-cache.ts';

export interface RunningDeliverer {
  stop(): Promise<void>;
}

/** Consumes the `deliveries` queue: signed webhooks, retries, per-origin circuit breakers. */
export function startDeliverer(ctx: ServiceContext): RunningDeliverer {
  const log = ctx.log.child({ component: 'deliverer' });
  const metrics = delivererMetrics();
  const { delivery } = ctx.config;
  const openOrigins = new Set<string>();
  const breakers = createCircuitBreakers({
    minRequests: delivery.breaker.minRequests,
    errorPercent: delivery.breaker.errorPercent,
    resetMs: delivery.breaker.resetMs,
    onStateChange: (origin, state) => {
      metrics.breakerTransitions.inc({ state });
      if (state === 'open') openOrigins.add(origin);
      else openOrigins.delete(origin);
      metrics.openCircuits.set(openOrigins.size);
      const message = { open: 'Opened circuit for host', 'half-open': 'Half-opened circuit for host', closed: 'Closed circuit for host' }[state];
      (state === 'open' ? log.warn : log.info).call(log, { host: origin }, message);
    },
  });
  // A connection for every request the per-origin share lets through, so none waits for a socket.
  const sender = createWebhookSender({ timeoutMs: delivery.timeoutMs, ssrfAllow: delivery.ssrfAllow, connectionsPerOrigin: Math.max(32, delivery.maxPerOrigin) });
  const batcher = new Batcher(
    (subscription, deliveries, span) => sendBatch(deps, subscription, deliveries, span),
    (subscription, err) => log.warn({ err, workflowId: subscription.workflowId }, 'Failed to send a batch; its deliveries will come back'),
  );
  const fairShare = new FairShare({ perSubscription: delivery.maxPerSubscription, perOrigin: delivery.maxPerOrigin });
  const holding = new Set<Promise<void>>();
  const deps: DelivererDeps = {
    batcher,
    fairShare,
    holding,
    eventStore: ctx.backends.eventStore,
    deliveryStore: ctx.backends.deliveryStore,
    metadataStore: ctx.backends.metadataStore,
    subscriptions: new SubscriptionCache(ctx.backends.metadataStore, ctx.clock),
    replayStore: ctx.backends.replayStore,
    queue: ctx.backends.queue,
    sender,
    breakers,
    clock: ctx.clock,
    log,
    metrics,
    random: Math.random,
    settings: {
      maxAttempts: delivery.maxAttempts,
      retryBaseMs: delivery.retryBaseMs,
      retryMaxDelayMs: delivery.retryMaxDelayMs,
      timeoutMs: delivery.timeoutMs,
      // Renewed while the request runs: a dead claimer's attempt is taken over this soon.
      attemptLeaseMs: delivery.claimLeaseMs,
      webhookTraceparent: delivery.webhookTraceparent,
    },
  };
  const consumer = startConsumer<DeliveryMessage>({
    queue: ctx.backends.queue,
    topic: 'deliveries',
    log,
    concurrency: delivery.concurrency,
    batchSize: 64,
    visibilityTimeoutMs: ctx.config.queue.visibilityTimeoutMs,
    readiness: ctx.backends.readiness,
    // `deliveries` messages are keyed by subscription: a receive takes no more of one
    // subscription's than it has room for; the rest (all of a saturated one's) wait in the queue.
    keyRoom: () => fairShare.subscriptionRoom(),
    handle: (message, control) => {
      const handled = fairShare.handling(message.body.workflowId);
      return processMessageSpan(
        ctx.backends.queue.kind,
        'deliveries',
        message,
        {
          'triggers.event_id': message.body.eventId,
          'triggers.customer_id': message.body.customerId,
          'triggers.subscription_id': message.body.workflowId,
          'triggers.delivery_id': message.body.deliveryId,
          'triggers.attempt': message.body.attempt,
        },
        // The span is passed on, not made active (no AsyncLocalStorage: see inSpanPassedOn).
        (span) => deliver(inSpanOf(deps, span), message.body, control),
      ).finally(handled);
    },
  });
  const gauge = setInterval(() => metrics.batchBuffered.set(batcher.buffered), 1000);
  return {
    async stop() {
      clearInterval(gauge);
      // Send the open batches now rather than at their window's end; then those a handler in a
      // slot added while the consumer stopped.
      const flushing = batcher.flushAll();
      await consumer.stop();
      await Promise.all([flushing, batcher.flushAll(), ...holding]);
      breakers.shutdown();
      await sender.close();
    },
  };
}
