import { createServiceContext, listen, type Config, type Logger, type ServiceContext } from '@triggers/core/runtime';
import type { Clock } from '@triggers/core/domain';
import { createHttpApp } from '@triggers/core/http';
import { ingestRoutes } from '@triggers/ingest';
import { inboxRoutes, mountConsole } from '@triggers/inbox';
import { startMatcher } from '@triggers/matcher';
import { startDeliverer } from '@triggers/deliverer';
import { startPipelineWorker, type PipelineWorker } from './pipeline-worker.ts';

export interface RunningServer {
  url: string;
  port: number;
  adminToken: string | undefined;
  adminTokenSource: string;
  ctx: ServiceContext;
  close(): Promise<void>;
}

/** All four services in one process on one port: the embedded mode of ARCHITECTURE.md. */
export async function startAllInOne(config: Config, options: { log?: Logger; clock?: Clock } = {}): Promise<RunningServer> {
  const ctx = await createServiceContext(config, { service: 'all-in-one', ...options });
  // The demo calls the public API on this very process, whose address is known once it listens.
  let selfUrl: string | undefined;
  // The matcher and deliverer: on this thread by default, or in a worker thread (see config.ts).
  let worker: PipelineWorker | undefined;
  let inline: { stop(): Promise<void> }[] = [];
  if (config.embeddedPipeline === 'thread') worker = await startPipelineWorker(config, ctx.log);
  else inline = [startMatcher(ctx), startDeliverer(ctx)];
  const app = createHttpApp(ctx, {
    routes: [...ingestRoutes(ctx), ...inboxRoutes(ctx, { selfUrl: () => selfUrl! })],
    extra: config.demoEnabled ? (express) => mountConsole(express) : undefined,
    extraMetrics: worker ? () => worker!.metrics() : undefined,
  });
  const listener = await listen(app, config);
  selfUrl = listener.selfUrl;
  return {
    url: listener.url,
    port: listener.port,
    adminToken: ctx.adminToken,
    adminTokenSource: ctx.adminTokenSource,
    ctx,
    close: async () => {
      await listener.close();
      await Promise.all([...inline.map((service) => service.stop()), worker?.stop()]);
      await ctx.backends.close();
    },
  };
}
