import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The controller's Prometheus metrics, in the registry it is given (the process's, or one per test instance). */
export function controllerMetrics(registry: Registry) {
  const registers = [registry];
  return {
    reconciles: new Counter({
      name: 'triggers_controller_reconciles_total',
      help: 'Reconciles of Subscription resources by result (synced, deleted, gone, invalid, retry, conflict, error).',
      labelNames: ['result'],
      registers,
    }),
    reconcileDuration: new Histogram({
      name: 'triggers_controller_reconcile_duration_seconds',
      help: 'How long one reconcile took.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    queueDepth: new Gauge({ name: 'triggers_controller_queue_depth', help: 'Keys ready in the work queue.', registers }),
    queueDelayed: new Gauge({ name: 'triggers_controller_queue_delayed', help: 'Keys waiting for a backoff or requeue delay.', registers }),
    leader: new Gauge({ name: 'triggers_controller_leader', help: '1 while this replica holds the leader Lease.', registers }),
    watchErrors: new Counter({ name: 'triggers_controller_watch_errors_total', help: 'Failed lists or watches, before the backoff.', labelNames: ['resource'], registers }),
    relists: new Counter({ name: 'triggers_controller_relists_total', help: 'Full lists: at start and after 410 Gone.', labelNames: ['resource', 'why'], registers }),
  };
}

export type ControllerMetrics = ReturnType<typeof controllerMetrics>;
