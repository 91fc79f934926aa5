import { createHttpApp } from '@triggers/core/http/app.ts';
import { createServiceContext, listen, loadConfigOrExit, onShutdown } from '@triggers/core/service-runtime.ts';
import { inboxRoutes } from './index.ts';

/** The inbox service alone: the read API, subscriptions, admin, and the ops routes. */
const config = loadConfigOrExit(process.env);
const ctx = await createServiceContext(config, { service: 'inbox' });
const listener = await listen(createHttpApp(ctx, { routes: inboxRoutes(ctx) }), config);
ctx.log.info({ url: listener.url }, 'Started inbox');
onShutdown(ctx.log, async () => {
  await listener.close();
  await ctx.backends.close();
});
