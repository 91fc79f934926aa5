import assert from 'node:assert/strict';
import { KUBERNETES, kubectl, kubectlOk, requireEngine } from '@triggers/testkit';
import { settleChildProcesses, createNamespace } from '../e2e-harness.testing.ts';
import { KubeError, createKubeClient, isNotFound, loadKubeConfig, type WatchEvent } from './kube-client.ts';

/** The small API client against the real API server: errors, watch streaming and its ends. */
describe('Kubernetes API client', function () {
  this.timeout(30_000);
  const kube = requireEngine(KUBERNETES);
  let namespace: string;

  before(async function () {
    namespace = await createNamespace(kube.address, 'client');
  });
  after(async function () {
    if (namespace) await kubectl(kube.address, ['delete', 'namespace', namespace, '--wait=false']);
    await settleChildProcesses();
  });

  it('reports a missing object as a KubeError 404 with the API server message, and counts only writes', async () => {
    const client = createKubeClient(loadKubeConfig(kube.address));
    const error = await client.request('GET', `/api/v1/namespaces/${namespace}/configmaps/absent`).catch((e: unknown) => e);
    assert.ok(error instanceof KubeError && isNotFound(error));
    assert.match((error as KubeError).message, /configmaps "absent" not found/);
    await client.request('POST', `/api/v1/namespaces/${namespace}/configmaps`, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'counted' } } });
    assert.deepEqual(client.writes, { POST: 1 });
  });

  it('streams watch events from a resourceVersion, with bookmarks asked for', async () => {
    const client = createKubeClient(loadKubeConfig(kube.address));
    const list = await client.request<{ metadata: { resourceVersion: string } }>('GET', `/api/v1/namespaces/${namespace}/configmaps`);
    const seen: WatchEvent<{ metadata: { name: string } }>[] = [];
    const stream = client.watch<{ metadata: { name: string } }>(`/api/v1/namespaces/${namespace}/configmaps`, { resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 60 }, (event) => seen.push(event));
    await kubectlOk(kube.address, ['create', 'configmap', 'watched', '-n', namespace]);
    const deadline = Date.now() + 10_000;
    while (!seen.some((e) => e.type === 'ADDED' && e.object.metadata.name === 'watched') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(seen.some((e) => e.type === 'ADDED' && e.object.metadata.name === 'watched'));
    stream.abort();
    await stream.done; // resolves: ended from this side
  });

  it('ends a watch after maxDurationMs even when the server keeps it open (a half-open connection cannot stall it)', async () => {
    const client = createKubeClient(loadKubeConfig(kube.address));
    const started = Date.now();
    const stream = client.watch(`/api/v1/namespaces/${namespace}/configmaps`, { timeoutSeconds: 600 }, () => undefined, { maxDurationMs: 700 });
    await stream.done;
    const took = Date.now() - started;
    assert.ok(took >= 600 && took < 5000, `ended after ${took} ms`);
  });

  it('rejects a watch the server refuses with its HTTP status', async () => {
    const client = createKubeClient(loadKubeConfig(kube.address));
    const stream = client.watch('/apis/no.such.group/v1/things', {}, () => undefined);
    await assert.rejects(stream.done, (error: unknown) => error instanceof KubeError && error.status === 404);
  });
});
