import type { StoredEvent } from '@triggers/core/domain';
import type { DemoDeps } from '../deps.ts';
import { bucketEvents } from '../stats.ts';
import { statsQuerySchema, statsSchema } from '../schemas.ts';
import { defineDemoRoute } from '../define-demo-route.ts';

/** At most this many events are counted per answer (10 pages of the inbox). */
const MAX_COUNTED = 10_000;

export function makeDemoStatsRoute(deps: DemoDeps) {
  return defineDemoRoute({
    method: 'get',
    path: '/demo/stats',
    operationId: 'demoStats',
    summary: "Events per second and delivery outcomes of the demo customer's recent events",
    description: 'For the live chart. An aggregate the public API does not offer, so it reads the event store directly, for the demo customer only.',
    query: statsQuerySchema,
    responses: { 200: { description: 'Counts per bucket, oldest first', schema: statsSchema } },
    errors: ['invalid_request', 'unavailable'],
    handler: async ({ query }) => {
      const account = await deps.customer.account();
      const now = deps.clock.now();
      const windowMs = (query.window_seconds ?? 60) * 1000;
      const bucketMs = Math.max((query.bucket_seconds ?? 2) * 1000, Math.ceil(windowMs / 300 / 1000) * 1000);
      const events: StoredEvent[] = [];
      let cursor: string | undefined;
      let truncated = false;
      for (;;) {
        const page = await deps.eventStore.listEvents(account.customer_id, { startTime: now - windowMs - bucketMs, limit: 1000, cursor });
        events.push(...page.events);
        if (page.nextCursor === null) break;
        if (events.length >= MAX_COUNTED) {
          truncated = true;
          break;
        }
        cursor = page.nextCursor;
      }
      return { status: 200, body: { ...bucketEvents(events, { now, windowMs, bucketMs }), truncated } };
    },
  });
}
