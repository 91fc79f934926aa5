import { createHttpApp } from '@triggers/core/http';
import { createServiceContext, listen, loadConfigOrExit, onShutdown } from '@triggers/core/runtime';
import { startDeliverer } from './index.ts';

/** The deliverer alone: consumes `deliveries`, serves only the ops routes (health, ready, metrics). */
const config = loadConfigOrExit(process.env);
// Only ingest rate-limits and checks idempotency: a Redis outage must not stop or unready the deliverer.
const ctx = await createServiceContext(config, { service: 'deliverer', needs: { cache: false } });
const deliverer = startDeliverer(ctx);
const listener = await listen(createHttpApp(ctx, { routes: [] }), config);
ctx.log.info({ url: listener.url }, 'Started deliverer');
onShutdown(ctx.log, async () => {
  await deliverer.stop();
  await listener.close();
  await ctx.backends.close();
});
