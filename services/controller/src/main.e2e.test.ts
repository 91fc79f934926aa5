import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { KUBERNETES, freePort, kubectlOk, requireEngine } from '@triggers/testkit';
import { settleChildProcesses, ROOT, applyOk, createNamespace, deleteNamespace, installCrd, subscriptionManifest, waitForSubscription, waitUntilTrue, condition } from './e2e-harness.testing.ts';

/**
 * `services/controller/src/main.ts` as its own process (what the image's `controller` role runs):
 * it serves /health, /ready (once Subscriptions are listed) and /metrics with the controller's
 * metrics, reconciles, and on SIGTERM releases its Lease and exits 0.
 */
describe('Controller process (main.ts)', function () {
  this.timeout(60_000);
  const kube = requireEngine(KUBERNETES);
  let child: ChildProcess | undefined;
  let namespace: string;
  let dataDir: string;

  after(async function () {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    if (namespace) await deleteNamespace(kube.address, namespace);
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    await settleChildProcesses();
  });

  it('serves health, readiness and the controller metrics, reconciles, and releases its Lease on SIGTERM', async () => {
    await installCrd(kube.address);
    namespace = await createNamespace(kube.address, 'main');
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'triggers-controller-main-'));
    const port = await freePort();
    let output = '';
    child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'services/controller/src/main.ts')], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        TRIGGERS_HOST: '127.0.0.1',
        TRIGGERS_DATA_DIR: dataDir,
        TRIGGERS_LOG_LEVEL: 'info',
        TRIGGERS_CONTROLLER_KUBECONFIG: kube.address,
        TRIGGERS_CONTROLLER_NAMESPACES: namespace,
        TRIGGERS_CONTROLLER_LEASE_NAMESPACE: namespace,
        TRIGGERS_CONTROLLER_IDENTITY: 'main-process',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    const url = `http://127.0.0.1:${port}`;
    const get = (p: string) => fetch(url + p).then(async (r) => ({ status: r.status, text: await r.text() })).catch(() => ({ status: 0, text: '' }));

    await waitUntilTrue(async () => (await get('/health')).status === 200, `/health (output: ${output.slice(-500)})`, 30_000);
    await waitUntilTrue(async () => (await get('/ready')).status === 200, '/ready once Subscriptions are listed');
    assert.match((await get('/ready')).text, /"name":"kubernetes","ok":true/);

    // No customer in this process's store: the reconcile runs and reports it.
    await applyOk(kube.address, subscriptionManifest(namespace, 'probe', { customerId: randomUUID(), selector: { type: 'event_type', value: 'x' }, webhookUrl: 'https://hooks.example.com/x' }));
    await waitForSubscription(kube.address, namespace, 'probe', (r) => condition(r, 'Ready')?.reason === 'CustomerNotFound', 'CustomerNotFound');

    const metrics = (await get('/metrics')).text;
    assert.match(metrics, /triggers_controller_reconciles_total\{result="retry"\} [1-9]/);
    assert.match(metrics, /triggers_controller_queue_depth \d/);
    assert.match(metrics, /triggers_controller_reconcile_duration_seconds_count [1-9]/);
    assert.match(metrics, /triggers_controller_leader 1/);

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output.slice(-1000));
    const lease = JSON.parse(await kubectlOk(kube.address, ['get', 'lease', '-n', namespace, 'triggers-controller', '-o', 'json']));
    assert.equal(lease.spec.holderIdentity, undefined, 'released for the next replica');
  });
});
