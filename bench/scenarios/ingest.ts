/** `ingest`: single events, `POST /api/v1/events`, closed loop at --connections. */
import { apiHeaders, warmAndMeasure } from '../lib/measure.ts';
import { singleEventBodies } from '../lib/payloads.ts';
import { withTriggersServer } from '../lib/servers.ts';
import type { BenchContext } from '../lib/context.ts';
import type { RequestSpec } from '../lib/load.ts';

/**
 * The `ingest` load against `origin`: the same 64 single-event bodies, each answered 202. Shared by
 * `ingest-traced` and `bare`, so the three runs differ only in the server they measure.
 */
export function measureSingleEvents(
  ctx: BenchContext,
  name: string,
  origin: string,
  apiKey: string,
  serverPid: number | undefined,
  markWindow?: (from: bigint, to: bigint) => void,
) {
  return warmAndMeasure(ctx, name, origin, singleEventRequests(apiKey), 202, 1, serverPid, markWindow);
}

/** Request i of the `ingest` load: one of the same 64 single-event bodies, in turn. */
export function singleEventRequests(apiKey: string): (i: number) => RequestSpec {
  const bodies = singleEventBodies(64);
  const headers = apiHeaders(apiKey);
  return (i) => ({ method: 'POST', path: '/api/v1/events', headers, body: bodies[i % bodies.length] });
}

export async function runIngest(ctx: BenchContext) {
  return withTriggersServer(ctx, 'ingest', (t, mark) => measureSingleEvents(ctx, 'ingest', t.origin, t.apiKey, t.serverPid, mark));
}
