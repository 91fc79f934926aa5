import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { startTestServer, type TestServer } from '@triggers/all-in-one/test-server';
import { KUBERNETES, POSTGRES, REDIS, engineAddresses, kubectl, kubectlOk, prepareBackends, requireEngine, type PreparedBackends } from '@triggers/testkit';
import {
  settleChildProcesses,
  ROOT,
  applyOk,
  createNamespace,
  deleteNamespace,
  installCrd,
  isReadyNow,
  newWebhookSecret,
  secretManifest,
  startTestController,
  subscriptionManifest,
  waitForSubscription,
  waitUntilTrue,
  type TestController,
} from './e2e-harness.testing.ts';

const HELM = {
  name: 'helm',
  variable: 'TRIGGERS_TEST_HELM',
  probe: (helm: string) =>
    new Promise<void>((resolve, reject) => execFile(helm, ['version', '--short'], { timeout: 8000 }, (error) => (error ? reject(error) : resolve()))),
  hint: 'set TRIGGERS_TEST_HELM=$(scripts/engines/kubernetes.sh bin)/helm',
};

/**
 * Least privilege: the chart's RBAC for the controller (charts/triggers/templates/rbac.yaml, from
 * the rules in docs/operator.md) rendered with helm and applied to the real API server; the
 * controller then runs with a token of that ServiceAccount (`kubectl create token`) and does its
 * whole job — finalizer, status, Secret read and rotation, Events, Lease — while the API server's
 * RBAC refuses everything beyond it.
 */
describe('Subscription operator with the chart RBAC (least privilege)', function () {
  this.timeout(120_000);
  const kube = requireEngine(KUBERNETES);
  requireEngine(POSTGRES);
  // PostgreSQL metadata needs the shared cache (config.ts refuses the memory cache with it).
  requireEngine(REDIS);
  const helm = requireEngine(HELM);

  let admin: string;
  let namespace: string;
  let tokenKubeconfig: string;
  let serviceAccount: string;
  let backends: PreparedBackends;
  let server: TestServer;
  let controller: TestController | undefined;
  let customerId: string;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'triggers-rbac-'));

  before(async function () {
    admin = kube.address;
    await installCrd(admin);
    namespace = await createNamespace(admin, 'rbac');
    const rendered = await new Promise<string>((resolve, reject) =>
      execFile(
        helm.address,
        ['template', 'triggers', path.join(ROOT, 'charts/triggers'), '--namespace', namespace, '--set', `config.TRIGGERS_CONTROLLER_NAMESPACES=${namespace}`],
        { maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => (error ? reject(new Error(stderr || error.message)) : resolve(stdout)),
      ),
    );
    const kinds = new Set(['ServiceAccount', 'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding']);
    const objects = parseAllDocuments(rendered).map((d) => d.toJSON()).filter((o) => o && kinds.has(o.kind));
    assert.ok(objects.some((o) => o.kind === 'Role' && o.metadata.namespace === namespace), 'the chart renders a Role for the watched namespace');
    assert.equal(objects.filter((o) => o.kind === 'ClusterRole').length, 0, 'no cluster-wide rules when the namespaces are listed');
    const binding = objects.find((o) => o.kind === 'RoleBinding' && o.metadata.namespace === namespace && !o.metadata.name.endsWith('-lease'));
    serviceAccount = binding.subjects[0].name;
    await applyOk(admin, ...objects.map((o) => ({ ...o, metadata: { ...o.metadata, namespace: o.metadata.namespace ?? namespace } })));

    const token = (await kubectlOk(admin, ['create', 'token', serviceAccount, '-n', namespace, '--duration=1h'])).trim();
    tokenKubeconfig = path.join(tmp, 'kubeconfig');
    fs.writeFileSync(tokenKubeconfig, fs.readFileSync(admin, 'utf8').replace(/token: .*/, `token: ${token}`));

    backends = await prepareBackends({ eventStore: 'sqlite', metadataStore: 'postgres', queue: 'sqlite', cache: 'redis' }, engineAddresses(), 'operator-rbac');
    server = await startTestServer(backends.env);
    ({ customerId } = await server.createCustomer());
  });

  after(async function () {
    await controller?.stop();
    if (namespace) await deleteNamespace(admin, namespace);
    await server?.close();
    await backends?.cleanup();
    fs.rmSync(tmp, { recursive: true, force: true });
    await settleChildProcesses();
  });

  it('the ServiceAccount may do what docs/operator.md lists and nothing else', async () => {
    const can = async (...args: string[]) => (await kubectl(tokenKubeconfig, ['auth', 'can-i', ...args, '-n', namespace])).stdout.trim();
    for (const allowed of [
      ['watch', 'subscriptions.triggers.dev'],
      ['patch', 'subscriptions.triggers.dev'],
      ['update', 'subscriptions.triggers.dev', '--subresource=status'],
      ['get', 'secrets'],
      ['watch', 'secrets'],
      ['create', 'events.events.k8s.io'],
      ['create', 'leases.coordination.k8s.io'],
      ['update', 'leases.coordination.k8s.io/triggers-controller'],
    ]) assert.equal(await can(...allowed), 'yes', allowed.join(' '));
    for (const refused of [
      ['create', 'subscriptions.triggers.dev'],
      ['delete', 'subscriptions.triggers.dev'],
      ['update', 'subscriptions.triggers.dev'],
      ['create', 'secrets'],
      ['update', 'secrets'],
      ['delete', 'secrets'],
      ['list', 'pods'],
      ['update', 'leases.coordination.k8s.io/another-lease'],
      ['delete', 'leases.coordination.k8s.io'],
    ]) assert.equal(await can(...refused), 'no', refused.join(' '));
    const otherNamespace = (await kubectl(tokenKubeconfig, ['auth', 'can-i', 'list', 'subscriptions.triggers.dev', '-n', 'default'])).stdout.trim();
    assert.equal(otherNamespace, 'no', 'nothing outside the listed namespace');
  });

  it('a controller running with that token syncs, rotates, records Events, leads and finalizes', async () => {
    const secret = newWebhookSecret();
    await applyOk(admin, secretManifest(namespace, 'hook', secret));
    // A 10-minute resync: the rotation below can only arrive through the (metadata-only) Secret watch.
    controller = await startTestController({ kubeconfig: tokenKubeconfig, namespace, env: backends.env, identity: 'rbac-a', resyncMs: 10 * 60_000 });
    await applyOk(admin, subscriptionManifest(namespace, 'least', { customerId, selector: { type: 'event_type', value: 'least.privilege' }, webhookUrl: 'http://127.0.0.1:9/hook', signingSecretRef: { name: 'hook', key: 'secret' } }));
    const resource = await waitForSubscription(admin, namespace, 'least', isReadyNow, 'Ready=True (finalizer patched, status written, Secret read)');
    assert.equal(controller.controller.isLeader, true, 'the Lease was created and held');
    const store = server.server.ctx.backends.metadataStore;
    assert.equal((await store.getSubscription(customerId, resource!.metadata.uid))?.secret, secret);

    const rotated = newWebhookSecret();
    await applyOk(admin, secretManifest(namespace, 'hook', rotated));
    await waitUntilTrue(async () => (await store.getSubscription(customerId, resource!.metadata.uid))?.secret === rotated, 'the rotation (Secret watch) to reach the store');

    await applyOk(admin, subscriptionManifest(namespace, 'no-customer', { customerId: '00000000-0000-4000-8000-000000000000', selector: { type: 'event_type', value: 'x' }, webhookUrl: 'http://127.0.0.1:9/hook' }));
    await waitUntilTrue(async () => {
      const events = JSON.parse(await kubectlOk(admin, ['get', 'events.events.k8s.io', '-n', namespace, '-o', 'json'])).items as { reason: string; regarding: { name: string } }[];
      return events.some((e) => e.regarding.name === 'no-customer' && e.reason === 'CustomerNotFound');
    }, 'a CustomerNotFound Event');

    await kubectlOk(admin, ['delete', '-n', namespace, 'subscriptions.triggers.dev', 'least', '--wait=false']);
    await waitForSubscription(admin, namespace, 'least', (r) => r === null, 'the finalizer removed');
    assert.equal(await store.getSubscription(customerId, resource!.metadata.uid), null);
    assert.equal((await controller.reconciles()).error ?? 0, 0, 'no reconcile failed for lack of a permission');
  });
});
