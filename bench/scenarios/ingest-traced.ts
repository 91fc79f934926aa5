/**
 * `ingest-traced`: the `ingest` scenario with OpenTelemetry tracing on — the server exports every
 * span (OTLP/HTTP, protobuf, the SDK's batch processor) to a local sink — so the report can put
 * tracing's cost beside the untraced run of the same bench.
 */
import { measureSingleEvents } from './ingest.ts';
import { withTriggersServer, type ServerRun } from '../lib/servers.ts';
import { startOtlpSink } from '../lib/otlp-sink.ts';
import type { LoadResult } from '../lib/load.ts';
import type { BenchContext } from '../lib/context.ts';

export interface TracedIngestResult extends LoadResult {
  /** OTLP export requests and bytes the sink received during the scenario. */
  exported: { requests: number; bytes: number };
}

export async function runIngestTraced(ctx: BenchContext): Promise<ServerRun<TracedIngestResult>> {
  const sink = await startOtlpSink();
  try {
    const run = await withTriggersServer(
      ctx,
      'ingest-traced',
      (t, mark) => measureSingleEvents(ctx, 'ingest-traced', t.origin, t.apiKey, t.serverPid, mark),
      { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_SERVICE_NAME: 'triggers-bench' },
    );
    // The server flushed its spans when it stopped (SIGTERM shuts the SDK down).
    const exported = sink.stats();
    if (exported.requests === 0) throw new Error('tracing was on but the server exported no spans to the sink');
    return { ...run, result: { ...run.result, exported } };
  } finally {
    await sink.close();
  }
}
