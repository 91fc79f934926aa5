import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestServer, type TestServer } from '@triggers/all-in-one/test-server';
import { KUBERNETES, POSTGRES, REDIS, engineAddresses, kubectlOk, prepareBackends, requireEngine, startKubernetesInstance, type KubernetesInstance, type PreparedBackends } from '@triggers/testkit';
import { settleChildProcesses, applyOk, createNamespace, installCrd, isReadyNow, startTestController, subscriptionManifest, waitForSubscription, waitUntilTrue, type TestController } from './e2e-harness.testing.ts';

/**
 * A watch the server drops (kube-apiserver restarted; etcd keeps the data) is resumed from the last
 * resourceVersion the controller saw, so a change made while the controller was reconnecting is
 * not lost. Runs on a private API server of its own (same script, other ports and folder), never
 * on the shared one other tests use; TRIGGERS_TEST_KUBECONFIG being set says the binaries exist.
 */
describe('Subscription operator across a kube-apiserver restart', function () {
  this.timeout(180_000);
  requireEngine(KUBERNETES);
  requireEngine(POSTGRES);
  // PostgreSQL metadata needs the shared cache (config.ts refuses the memory cache with it).
  requireEngine(REDIS);

  let instance: KubernetesInstance;
  let backends: PreparedBackends;
  let server: TestServer;
  let controller: TestController | undefined;
  let namespace: string;
  let customerId: string;
  let apiKey: string;

  before(async function () {
    instance = await startKubernetesInstance();
    backends = await prepareBackends({ eventStore: 'sqlite', metadataStore: 'postgres', queue: 'sqlite', cache: 'redis' }, engineAddresses(), 'operator-restart');
    server = await startTestServer(backends.env);
    ({ customerId, apiKey } = await server.createCustomer());
    await installCrd(instance.kubeconfig);
    namespace = await createNamespace(instance.kubeconfig, 'restart');
    controller = await startTestController({ kubeconfig: instance.kubeconfig, namespace, env: backends.env, identity: 'restart-a', resyncMs: 10 * 60_000, leaseDurationMs: 15_000 });
  });

  after(async function () {
    await controller?.stop();
    await instance?.destroy();
    await server?.close();
    await backends?.cleanup();
    await settleChildProcesses();
  });

  const watchErrors = async () => (await controller!.registry.getSingleMetric('triggers_controller_watch_errors_total')!.get()).values.reduce((sum, v) => sum + v.value, 0);
  const selectorOf = async (id: string) =>
    ((await server.request('GET', `/api/v1/subscriptions/${id}`, { apiKey })).body as { event_selector?: unknown }).event_selector;

  it('resumes the dropped watch and applies a change made while it was reconnecting', async () => {
    const spec = { customerId, selector: { type: 'event_type', value: 'before.restart' }, webhookUrl: 'http://127.0.0.1:9/hook' };
    await applyOk(instance.kubeconfig, subscriptionManifest(namespace, 'survivor', spec));
    const resource = await waitForSubscription(instance.kubeconfig, namespace, 'survivor', isReadyNow, 'Ready=True before the restart');
    const errorsBefore = await watchErrors();

    await instance.restartApiServer();
    // Changed as soon as the API server is back: the controller's watch is down (it is backing off).
    const marker = `after.restart.${randomUUID().slice(0, 8)}`;
    await kubectlOk(instance.kubeconfig, ['patch', '-n', namespace, 'subscriptions.triggers.dev', 'survivor', '--type=merge', '-p', JSON.stringify({ spec: { selector: { type: 'event_type', value: marker } } })]);
    await applyOk(instance.kubeconfig, subscriptionManifest(namespace, 'newcomer', { ...spec, selector: { type: 'event_type', value: 'newcomer' } }));

    // The resync period is 10 minutes: only the resumed watch can bring these changes in time.
    await waitUntilTrue(async () => JSON.stringify(await selectorOf(resource!.metadata.uid)) === JSON.stringify({ type: 'event_type', value: marker }), 'the edit made during the outage to reach the store', 60_000);
    await waitForSubscription(instance.kubeconfig, namespace, 'survivor', (r) => isReadyNow(r) && r!.metadata.generation === 2, 'generation 2 observed', 60_000);
    await waitForSubscription(instance.kubeconfig, namespace, 'newcomer', isReadyNow, 'the resource created during the outage: Ready', 60_000);
    assert.ok((await watchErrors()) > errorsBefore, 'the watch was really dropped (and retried with backoff)');
    assert.equal(controller!.controller.isLeader, true, 'the Lease (15 s) outlived the restart');
  });
});
