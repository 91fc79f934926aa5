/** `ingest`: single events, `POST /api/v1/events`, closed loop at --connections. */
import { apiHeaders, warmAndMeasure } from '../lib/measure.ts';
import { singleEventBodies } from '../lib/payloads.ts';
import { withTriggersServer } from '../lib/servers.ts';
import type { BenchContext } from '../lib/context.ts';

export async function runIngest(ctx: BenchContext) {
  const bodies = singleEventBodies(64);
  return withTriggersServer(ctx, 'ingest', (t, mark) => {
    const headers = apiHeaders(t.apiKey);
    return warmAndMeasure(ctx, 'ingest', t.origin, (i) => ({ method: 'POST', path: '/api/v1/events', headers, body: bodies[i % bodies.length] }), 202, 1, t.serverPid, mark);
  });
}