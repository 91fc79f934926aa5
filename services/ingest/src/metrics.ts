import { Counter, register } from 'prom-client';

export interface IngestMetrics {
  eventsAccepted: Counter;
  rateLimited: Counter;
}

let metrics: IngestMetrics | undefined;

/** Registered once per process (the all-in-one mounts ingest once). */
export function ingestMetrics(): IngestMetrics {
  metrics ??= {
    eventsAccepted: new Counter({ name: 'triggers_events_accepted_total', help: 'Events accepted (202) by ingest.', registers: [register] }),
    rateLimited: new Counter({ name: 'triggers_ingest_rate_limited_total', help: 'Ingest requests refused with 429.', registers: [register] }),
  };
  return metrics;
}
