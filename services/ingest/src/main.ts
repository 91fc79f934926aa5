import { createHttpApp } from '@triggers/core/http';
import { createServiceContext, listen, loadConfigOrExit, onShutdown } from '@triggers/core/runtime';
import { ingestRoutes } from './index.ts';

/** The ingest service alone: `POST /api/v1/events[/batch]` plus the ops routes. */
const config = loadConfigOrExit(process.env);
const ctx = await createServiceContext(config, { service: 'ingest' });
const listener = await listen(createHttpApp(ctx, { routes: ingestRoutes(ctx) }), config);
ctx.log.info({ url: listener.url }, 'Started ingest');
onShutdown(ctx.log, async () => {
  await listener.close();
  await ctx.backends.close();
});
