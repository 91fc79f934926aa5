/** `bare`: the same requests as `ingest` against a plain node:http server answering 202 (the baseline). */
import { measureSingleEvents } from './ingest.ts';
import { withBareServer, type ServerRun } from '../lib/servers.ts';
import type { LoadResult } from '../lib/load.ts';
import type { BenchContext } from '../lib/context.ts';

/** No Triggers server: the result has no start-up time or profile. */
export async function runBare(ctx: BenchContext): Promise<ServerRun<LoadResult>> {
  const result = await withBareServer(ctx, (origin, pid) => measureSingleEvents(ctx, 'bare', origin, 'sk_test_bench_bare_server_does_not_check_this', pid));
  return { result };
}