import { Counter, Gauge, Histogram, register } from 'prom-client';
import { DELIVERY_OUTCOMES } from '@triggers/core/domain';
import { OriginLabels } from './origin-labels.ts';

/** Origins with a label of their own per deliverer process (the busiest); the rest share `origin="other"`. */
export const LABELLED_ORIGINS = 50;

export interface DelivererMetrics {
  attempts: Counter<'outcome'>;
  /** By bounded origin (see OriginLabels) and outcome. */
  attemptDuration: Histogram<'origin' | 'outcome'>;
  /** From the event's acceptance (its 202) to the 2xx that delivered it, per delivery. */
  deliveryLatency: Histogram;
  deferredByBreaker: Counter;
  /** Deliveries put back because their subscription or origin held its share of the deliverer. */
  deferredByFairShare: Counter;
  /** Deliveries of FIFO subscriptions put back because an earlier delivery is still pending (no attempt spent). */
  heldInOrder: Counter;
  /** First attempts waiting in the batcher (their messages detached from the consumer). */
  batchBuffered: Gauge;
  breakerTransitions: Counter<'state'>;
  openCircuits: Gauge;
  origins: OriginLabels;
}

let metrics: DelivererMetrics | undefined;

export function delivererMetrics(): DelivererMetrics {
  metrics ??= {
    attempts: new Counter({
      name: 'triggers_delivery_attempts_total',
      help: 'Webhook attempts by outcome (succeeded, retry, fail, disable).',
      labelNames: ['outcome'],
      registers: [register],
    }),
    attemptDuration: new Histogram({
      name: 'triggers_delivery_attempt_duration_seconds',
      help: `Duration of webhook attempts by origin (the ${LABELLED_ORIGINS} busiest of the last 10 minutes; the rest "other") and outcome.`,
      labelNames: ['origin', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [register],
    }),
    deliveryLatency: new Histogram({
      name: 'triggers_delivery_latency_seconds',
      help: 'End to end: from the event\'s acceptance (202) to the webhook\'s 2xx, retries included.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600],
      registers: [register],
    }),
    deferredByBreaker: new Counter({
      name: 'triggers_delivery_deferred_by_circuit_total',
      help: 'Deliveries put back because their origin circuit was open (no attempt spent).',
      registers: [register],
    }),
    deferredByFairShare: new Counter({
      name: 'triggers_delivery_deferred_by_fair_share_total',
      help: 'Deliveries put back because their subscription or origin held its share of the deliverer\'s concurrency (no attempt spent).',
      registers: [register],
    }),
    heldInOrder: new Counter({
      name: 'triggers_delivery_held_in_order_total',
      help: 'Deliveries of FIFO subscriptions put back because an earlier delivery of the subscription is still pending (no attempt spent).',
      registers: [register],
    }),
    batchBuffered: new Gauge({
      name: 'triggers_delivery_batch_buffered',
      help: 'First attempts waiting in a batch window (their queue messages held outside the consumer slots).',
      registers: [register],
    }),
    breakerTransitions: new Counter({
      name: 'triggers_circuit_transitions_total',
      help: 'Circuit breaker state changes, by new state.',
      labelNames: ['state'],
      registers: [register],
    }),
    openCircuits: new Gauge({ name: 'triggers_circuits_open', help: 'Origins whose circuit is open now.', registers: [register] }),
    // A demoted origin's series are removed: they would only go stale.
    origins: new OriginLabels(LABELLED_ORIGINS, {
      onDemote: (origin) => {
        for (const outcome of DELIVERY_OUTCOMES) metrics!.attemptDuration.remove({ origin, outcome });
      },
    }),
  };
  return metrics;
}
