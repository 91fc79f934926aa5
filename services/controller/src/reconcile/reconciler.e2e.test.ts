import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { createBackends, createLogger, loadConfig, type Backends } from '@triggers/core/runtime';
import { systemClock } from '@triggers/core/domain';
import { KUBERNETES, kubectlOk, requireEngine } from '@triggers/testkit';
import { settleChildProcesses, applyOk, condition, createNamespace, deleteNamespace, getSubscription, installCrd, subscriptionManifest } from '../e2e-harness.testing.ts';
import { KubeError, createKubeClient, loadKubeConfig, type KubeClient } from '../kube/kube-client.ts';
import { systemScheduler } from '../scheduler.ts';
import { FINALIZER, type SubscriptionResource } from '../subscription-resource.ts';
import { Reconciler } from './reconciler.ts';

/**
 * `reconcile(key)` on its own against the real API server and a real (SQLite) metadata store, fed
 * stale copies on purpose: the status subresource's optimistic concurrency (409) is retried while
 * the generation is unchanged and handed back for a new reconcile when the spec moved on.
 */
describe('Reconciler against the API server', function () {
  this.timeout(60_000);
  const kube = requireEngine(KUBERNETES);

  let kubeconfig: string;
  let namespace: string;
  let dataDir: string;
  let backends: Backends;
  let client: KubeClient;
  let customerId: string;
  const cache = new Map<string, SubscriptionResource>();
  const events: string[] = [];
  let reconciler: Reconciler;

  before(async function () {
    kubeconfig = kube.address;
    await installCrd(kubeconfig);
    namespace = await createNamespace(kubeconfig, 'reconciler');
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'triggers-reconciler-'));
    const config = loadConfig({ TRIGGERS_DATA_DIR: dataDir, TRIGGERS_LOG_LEVEL: 'silent', TRIGGERS_SQLITE_SYNCHRONOUS: 'normal' });
    const log = createLogger({ level: 'silent', service: 'reconciler-test' });
    backends = await createBackends(config, { clock: systemClock, log });
    customerId = randomUUID();
    await backends.metadataStore.createCustomer({ customerId, name: 'R', email: 'r@example.test', status: 'active', rateLimitPerSecond: null, isTest: true, createdAt: Date.now() });
    client = createKubeClient(loadKubeConfig(kubeconfig));
    reconciler = new Reconciler({
      kube: client,
      metadataStore: backends.metadataStore,
      scheduler: systemScheduler,
      log,
      ssrfAllow: { kind: 'none' },
      cached: (key) => cache.get(key),
      recordFailure: async (resource, reason) => {
        events.push(`${resource.metadata.name}:${reason}`);
      },
    });
  });

  after(async function () {
    if (namespace) await deleteNamespace(kubeconfig, namespace);
    await backends?.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    await settleChildProcesses();
  });

  const create = async (name: string, withFinalizer: boolean): Promise<SubscriptionResource> => {
    const manifest = subscriptionManifest(namespace, name, { customerId, selector: { type: 'event_type', value: `${name}.created` }, webhookUrl: 'https://hooks.example.com/r' }) as { metadata: Record<string, unknown> };
    if (withFinalizer) manifest.metadata.finalizers = [FINALIZER];
    await applyOk(kubeconfig, manifest);
    return (await getSubscription(kubeconfig, namespace, name))!;
  };

  it('adds its finalizer, stores the subscription and writes Ready with the generation', async () => {
    const fresh = await create('plain', false);
    cache.set(`${namespace}/plain`, fresh);
    assert.deepEqual(await reconciler.reconcile(`${namespace}/plain`), { result: 'synced' });
    const after = await getSubscription(kubeconfig, namespace, 'plain');
    assert.deepEqual(after!.metadata.finalizers, [FINALIZER]);
    assert.equal(condition(after, 'Ready')?.status, 'True');
    assert.equal(after!.status?.observedGeneration, 1);
    const stored = await backends.metadataStore.getSubscription(customerId, fresh.metadata.uid);
    assert.equal(stored?.managedBy, `triggers.dev/v1alpha1/Subscription/${namespace}/plain`);
  });

  it('retries a status write that conflicts (stale resourceVersion, same generation) and succeeds', async () => {
    const stale = await create('conflict', true);
    // Another writer touches the object: its resourceVersion moves on, its generation does not.
    await kubectlOk(kubeconfig, ['annotate', '-n', namespace, 'subscriptions.triggers.dev', 'conflict', 'example.com/touched=yes']);
    cache.set(`${namespace}/conflict`, stale);
    const writesBefore = client.writes.PUT ?? 0;
    assert.deepEqual(await reconciler.reconcile(`${namespace}/conflict`), { result: 'synced' });
    assert.equal((client.writes.PUT ?? 0) - writesBefore, 2, 'one refused PUT, one accepted');
    const after = await getSubscription(kubeconfig, namespace, 'conflict');
    assert.equal(condition(after, 'Ready')?.status, 'True');
    assert.equal(after!.metadata.annotations && (after!.metadata.annotations as Record<string, string>)['example.com/touched'], 'yes', 'the other writer\'s change is kept');
  });

  it('hands a conflict back for a new reconcile when the spec changed meanwhile (no status for an old generation)', async () => {
    const stale = await create('moved-on', true);
    await kubectlOk(kubeconfig, ['patch', '-n', namespace, 'subscriptions.triggers.dev', 'moved-on', '--type=merge', '-p', '{"spec":{"description":"newer"}}']);
    cache.set(`${namespace}/moved-on`, stale);
    await assert.rejects(reconciler.reconcile(`${namespace}/moved-on`), (error: unknown) => error instanceof KubeError && error.status === 409);
    assert.equal((await getSubscription(kubeconfig, namespace, 'moved-on'))!.status, undefined, 'no status written for generation 1');
    // The informer brings the new copy; the next reconcile describes generation 2.
    cache.set(`${namespace}/moved-on`, (await getSubscription(kubeconfig, namespace, 'moved-on'))!);
    assert.deepEqual(await reconciler.reconcile(`${namespace}/moved-on`), { result: 'synced' });
    const after = await getSubscription(kubeconfig, namespace, 'moved-on');
    assert.equal(after!.status?.observedGeneration, 2);
    assert.equal((await backends.metadataStore.getSubscription(customerId, stale.metadata.uid))?.description, 'newer');
  });

  it('a missing Secret is a retry with Ready=False SecretNotFound and an Event; a resource gone from the cache is done', async () => {
    const manifest = subscriptionManifest(namespace, 'secretless', { customerId, selector: { type: 'event_type', value: 's' }, webhookUrl: 'https://hooks.example.com/r', signingSecretRef: { name: 'absent', key: 'secret' } });
    await applyOk(kubeconfig, manifest);
    cache.set(`${namespace}/secretless`, (await getSubscription(kubeconfig, namespace, 'secretless'))!);
    const outcome = await reconciler.reconcile(`${namespace}/secretless`);
    assert.equal(outcome.result, 'retry');
    assert.equal(outcome.result === 'retry' && outcome.reason, 'SecretNotFound');
    assert.ok(events.includes('secretless:SecretNotFound'));
    assert.equal(condition(await getSubscription(kubeconfig, namespace, 'secretless'), 'Ready')?.reason, 'SecretNotFound');
    assert.deepEqual(await reconciler.reconcile(`${namespace}/never-existed`), { result: 'gone' });
  });
});
