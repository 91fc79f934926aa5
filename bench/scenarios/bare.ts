/** `bare`: the same requests as `ingest` against a plain node:http server answering 202 (the baseline). */
import { apiHeaders, warmAndMeasure } from '../lib/measure.ts';
import { singleEventBodies } from '../lib/payloads.ts';
import { withBareServer, type ServerRun } from '../lib/servers.ts';
import type { LoadResult } from '../lib/load.ts';
import type { BenchContext } from '../lib/context.ts';

/** No Triggers server: the result has no start-up time or profile. */
export async function runBare(ctx: BenchContext): Promise<ServerRun<LoadResult>> {
  const bodies = singleEventBodies(64);
  const headers = apiHeaders('sk_test_bench_bare_server_does_not_check_this');
  const result = await withBareServer(ctx, (origin, pid) =>
    warmAndMeasure(ctx, 'bare', origin, (i) => ({ method: 'POST', path: '/api/v1/events', headers, body: bodies[i % bodies.length] }), 202, 1, pid),
  );
  return { result };
}