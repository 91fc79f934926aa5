/** `batch`: `POST /api/v1/events/batch` of --batch-size events, closed loop at --connections. */
import { apiHeaders, warmAndMeasure } from '../lib/measure.ts';
import { batchBodies } from '../lib/payloads.ts';
import { withTriggersServer } from '../lib/servers.ts';
import type { BenchContext } from '../lib/context.ts';

export async function runBatch(ctx: BenchContext) {
  const bodies = batchBodies(ctx.settings.batchSize, 16);
  return withTriggersServer(ctx, 'batch', (t, mark) => {
    const headers = apiHeaders(t.apiKey);
    return warmAndMeasure(
      ctx,
      'batch',
      t.origin,
      (i) => ({ method: 'POST', path: '/api/v1/events/batch', headers, body: bodies[i % bodies.length] }),
      202,
      ctx.settings.batchSize,
      t.serverPid,
      mark,
      undefined,
      { variants: bodies.length },
    );
  });
}