import { Counter, Gauge, Histogram, register } from 'prom-client';

export interface DelivererMetrics {
  attempts: Counter<'outcome'>;
  attemptDuration: Histogram;
  deferredByBreaker: Counter;
  breakerTransitions: Counter<'state'>;
  openCircuits: Gauge;
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
      help: 'Duration of webhook attempts.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [register],
    }),
    deferredByBreaker: new Counter({
      name: 'triggers_delivery_deferred_by_circuit_total',
      help: 'Deliveries put back because their origin circuit was open (no attempt spent).',
      registers: [register],
    }),
    breakerTransitions: new Counter({
      name: 'triggers_circuit_transitions_total',
      help: 'Circuit breaker state changes, by new state.',
      labelNames: ['state'],
      registers: [register],
    }),
    openCircuits: new Gauge({ name: 'triggers_circuits_open', help: 'Origins whose circuit is open now.', registers: [register] }),
  };
  return metrics;
}
