import { createHttpApp } from '@triggers/core/http';
import { createServiceContext, listen, loadConfigOrExit, onShutdown } from '@triggers/core/runtime';
import { startMatcher } from './index.ts';

/** The matcher alone: consumes `events`, serves only the ops routes (health, ready, metrics). */
const config = loadConfigOrExit(process.env);
// Only ingest rate-limits and checks idempotency: a Redis outage must not stop or unready the matcher.
const ctx = await createServiceContext(config, { service: 'matcher', needs: { cache: false } });
const matcher = startMatcher(ctx);
const listener = await listen(createHttpApp(ctx, { routes: [] }), config);
ctx.log.info({ url: listener.url }, 'Started matcher');
onShutdown(ctx.log, async () => {
  await matcher.stop();
  await listener.close();
  await ctx.backends.close();
});
