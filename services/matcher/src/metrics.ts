import { Counter, register } from 'prom-client';

export interface MatcherMetrics {
  eventsMatched: Counter<'outcome'>;
}

let metrics: MatcherMetrics | undefined;

export function matcherMetrics(): MatcherMetrics {
  metrics ??= {
    eventsMatched: new Counter({
      name: 'triggers_matcher_events_total',
      help: 'Events matched, by outcome (matched, unmatched).',
      labelNames: ['outcome'],
      registers: [register],
    }),
  };
  return metrics;
}
