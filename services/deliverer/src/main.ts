import { createHttpApp } from '@triggers/core/http/app.ts';
import { createServiceContext, listen, loadConfigOrExit, onShutdown } from '@triggers/core/service-runtime.ts';
import { startDeliverer } from './index.ts';

/** The deliverer alone: consumes `deliveries`, serves only the ops routes (health, ready, metrics). */
const config = loadConfigOrExit(process.env);
const ctx = await createServiceContext(config, { service: 'deliverer' });
const deliverer = startDeliverer(ctx);
const listener = await listen(createHttpApp(ctx, { routes: [] }), config);
ctx.log.info({ url: listener.url }, 'Started deliverer');
onShutdown(ctx.log, async () => {
  await deliverer.stop();
  await listener.close();
  await ctx.backends.close();
});
