import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'prom-client';
import { createServiceContext, type Config } from '@triggers/core/runtime';
import { startMatcher } from '@triggers/matcher';
import { startDeliverer } from '@triggers/deliverer';
import type { PipelineReply, PipelineRequest } from './pipeline-worker.ts';

/**
 * The all-in-one's worker thread: the matcher and the deliverer on their own connection to the
 * same SQLite file, so consuming the queues never competes with HTTP for the main event loop.
 */
const config = (workerData as { config: Config }).config;
const port = parentPort!;
const ctx = await createServiceContext(config, { service: 'pipeline', needs: { cache: false }, processMetrics: false });
const matcher = startMatcher(ctx);
const deliverer = startDeliverer(ctx);

port.on('message', async (request: PipelineRequest) => {
  if (request.kind === 'metrics') {
    port.postMessage({ kind: 'metrics', id: request.id, text: await register.metrics() } satisfies PipelineReply);
  } else if (request.kind === 'stop') {
    await Promise.all([matcher.stop(), deliverer.stop()]);
    await ctx.backends.close();
    port.postMessage({ kind: 'stopped' } satisfies PipelineReply);
    port.close();
  }
});
port.postMessage({ kind: 'started' } satisfies PipelineReply);
