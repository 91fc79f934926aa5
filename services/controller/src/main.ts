import { createHttpApp } from '@triggers/core/http';
import { createServiceContext, listen, loadConfigOrExit, onShutdown } from '@triggers/core/runtime';
import { coerceError } from '@triggers/core/domain';
import { createKubeClient, loadKubeConfig, type KubeClient } from './kube/kube-client.ts';
import { startController } from './index.ts';

/**
 * The Subscription operator as its own process (the image's `controller` role): syncs Subscription
 * custom resources into the metadata store and serves /health, /ready and /metrics.
 * docs/operator.md describes what it does, the settings and the RBAC it needs.
 */
const config = loadConfigOrExit(process.env);
// The controller only reads and writes the metadata store: a Redis outage must not stop or unready it.
const ctx = await createServiceContext(config, { service: 'controller', needs: { cache: false, pipeline: false } });
let kube: KubeClient;
try {
  kube = createKubeClient(loadKubeConfig(config.controller.kubeconfig));
} catch (error) {
  process.stderr.write(`${coerceError(error).message}\n`);
  await ctx.backends.close();
  process.exit(1);
}
const controller = startController({ config, kube, metadataStore: ctx.backends.metadataStore, log: ctx.log });
ctx.backends.readiness.push(controller.readiness);
const listener = await listen(createHttpApp(ctx, { routes: [] }), config);
ctx.log.info({ url: listener.url }, 'Started controller');
onShutdown(ctx.log, async () => {
  await controller.stop();
  await listener.close();
  await ctx.backends.close();
});
