import { startConsumer, createCircuitBreakers, createWebhookSender, processMessageSpan, type ServiceContext } from '@triggers/core/runtime';
import type { DeliveryMessage } from '@triggers/core/ports';
import { deliver, sendBatch, type DelivererDeps } from './deliver.ts';
import { Batcher } from './batcher.ts';
import { delivererMetrics } from './metrics.ts';

/** Added to the webhook timeout for the lease of a claimed attempt (recording the outcome included). */
const ATTEMPT_LEASE_MARGIN_MS = 5000;

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
  const sender = createWebhookSender({ timeoutMs: delivery.timeoutMs, ssrfAllow: delivery.ssrfAllow });
  const batcher = new Batcher((subscription, deliveries) => sendBatch(deps, subscription, deliveries));
  const deps: DelivererDeps = {
    batcher,
    eventStore: ctx.backends.eventStore,
    deliveryStore: ctx.backends.deliveryStore,
    metadataStore: ctx.backends.metadataStore,
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
      // An attempt takes at most the webhook timeout plus its recording; past that its claimer is dead.
      attemptLeaseMs: delivery.timeoutMs + ATTEMPT_LEASE_MARGIN_MS,
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
    handle: (message) =>
      processMessageSpan(
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
        () => deliver(deps, message.body),
      ),
  });
  return {
    async stop() {
      batcher.releaseAll();
      await consumer.stop();
      breakers.shutdown();
      await sender.close();
    },
  };
}
