import { createHttpApp } from '@triggers/core/http';
import { createServiceContext, listen, loadConfigOrExit, onShutdown } from '@triggers/core/runtime';
import { inboxRoutes } from './index.ts';
import { mountConsole } from './console-static.ts';

/**
 * The inbox service alone: the read API, subscriptions, admin, the ops routes, and (with
 * `TRIGGERS_DEMO`) the demo back end and the console. Ingest runs elsewhere, so the demo needs
 * `TRIGGERS_DEMO_API_URL` to submit events; reads work against this process without it.
 */
const config = loadConfigOrExit(process.env);
// Only ingest rate-limits and checks idempotency: a Redis outage must not stop or unready the inbox.
const ctx = await createServiceContext(config, { service: 'inbox', needs: { cache: false } });
let selfUrl: string | undefined;
const app = createHttpApp(ctx, {
  routes: inboxRoutes(ctx, { selfUrl: () => selfUrl! }),
  extra: config.demoEnabled ? (express) => mountConsole(express) : undefined,
});
const listener = await listen(app, config);
selfUrl = listener.selfUrl;
ctx.log.info({ url: listener.url }, 'Started inbox');
onShutdown(ctx.log, async () => {
  await listener.close();
  await ctx.backends.close();
});
