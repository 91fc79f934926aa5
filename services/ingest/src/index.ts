import type { AnyRoute } from '@triggers/core/http';
import type { ServiceContext } from '@triggers/core/runtime';
import { makeEventCreateRoute } from './routes/events.create.ts';
import { makeEventBatchRoute } from './routes/events.batch.ts';
import { ingestMetrics } from './metrics.ts';
import type { IngestDeps } from './ingest-events.ts';

/** The ingest service's routes. The batch route is listed first so `/events/batch` is never read as an id. */
export function ingestRoutes(ctx: ServiceContext): AnyRoute[] {
  const deps: IngestDeps = {
    clock: ctx.clock,
    rateLimiter: ctx.backends.rateLimiter,
    idempotencyStore: ctx.backends.idempotencyStore,
    eventAcceptor: ctx.backends.eventAcceptor,
    queueKind: ctx.backends.queue.kind,
    metrics: ingestMetrics(),
    settings: {
      defaultRateLimitPerSecond: ctx.config.ingest.defaultRateLimitPerSecond,
      idempotencyTtlMs: ctx.config.ingest.idempotencyTtlMs,
    },
  };
  return [makeEventBatchRoute(deps), makeEventCreateRoute(deps)];
}
