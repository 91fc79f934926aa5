import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { POSTGRES, REDIS, engineAddresses, prepareBackends, requireEngine, type PreparedBackends } from '@triggers/testkit';
import { prepareImageSandbox, productionTopLevelPackages, waitForStatus, type ImageSandbox, type RoleProcess } from './lib/image-sandbox.ts';
import { createNamespace, deleteNamespace, installCrds, kubectl, requireApiServer } from './lib/kube.ts';

/**
 * Issue 9, item 1: every role of the image starts the way the image starts it — the Dockerfile's
 * bundle step, `docker/entrypoint.sh <role>`, NODE_ENV=production, only production packages, a
 * non-root user that can write nothing but the data folder and /tmp — and answers /health and
 * /ready (lib/image-sandbox.ts says how the image is imitated without a container engine).
 */

const ADMIN_TOKEN = 'image-test-admin-token-0123456789';

async function json(url: string, init: RequestInit & { token?: string; body?: string } = {}): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const response = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** A test customer made through `adminUrl`, and one event of `eventType` it posted to `ingestUrl` (accepted). */
async function postAsNewCustomer(adminUrl: string, ingestUrl: string, name: string, eventType: string): Promise<{ apiKey: string; eventId: string }> {
  const customer = await json(`${adminUrl}/admin/test-customer`, { method: 'POST', token: ADMIN_TOKEN, body: JSON.stringify({ name, email: `${name.toLowerCase()}@example.test` }) });
  assert.equal(customer.status, 201, JSON.stringify(customer.body));
  const accepted = await json(`${ingestUrl}/api/v1/events`, { method: 'POST', token: customer.body.api_key, body: JSON.stringify({ payload: { event_type: eventType } }) });
  assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
  return { apiKey: customer.body.api_key, eventId: accepted.body.event_id };
}

describe('image: each role started as the image starts it', function () {
  this.timeout(120_000);
  let sandbox: ImageSandbox;

  before(async function () {
    this.timeout(180_000);
    sandbox = await prepareImageSandbox();
  });
  after(async () => {
    await sandbox?.cleanup();
  });

  /** Starts a role, runs `test` with it, and stops the role whatever the test did. */
  async function withRole(name: string, env: Record<string, string>, test: (role: RoleProcess) => Promise<void>): Promise<void> {
    const role = await sandbox.start(name, env);
    try {
      await test(role);
    } finally {
      await role.stop();
    }
  }

  it('bundles import only packages that `npm ci --omit=dev` installs', () => {
    const production = new Set(productionTopLevelPackages());
    assert.ok(sandbox.bundledPackages.length > 5, `bundle.mjs reported its packages: ${sandbox.bundledPackages}`);
    for (const name of sandbox.bundledPackages) assert.ok(production.has(name), `${name} is imported by a bundle but is not a production dependency`);
    assert.ok(!fs.existsSync(path.join(sandbox.appDir, 'node_modules/tsx')), 'the image has no tsx');
    assert.ok(!fs.existsSync(path.join(sandbox.appDir, 'node_modules/mocha')), 'the image has no mocha');
  });

  it('the entrypoint refuses an unknown role with a usage line (exit 64) and lists every role on --help', () => {
    const entrypoint = path.join(sandbox.appDir, 'docker/entrypoint.sh');
    const bad = spawnSync(entrypoint, ['ingester'], { encoding: 'utf8' });
    assert.equal(bad.status, 64);
    assert.match(bad.stderr, /unknown role 'ingester'/);
    const help = spawnSync(entrypoint, ['--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0);
    assert.match(help.stderr, /ingest\|matcher\|deliverer\|inbox\|controller\|all/);
  });

  describe('all (embedded, SQLite in the data folder)', () => {
    let role: RoleProcess;
    before(async () => {
      role = await sandbox.start('all', { TRIGGERS_ADMIN_TOKEN: ADMIN_TOKEN });
      await waitForStatus(role, '/health', 200);
    });
    after(() => role?.stop());

    it('answers /health and /ready with its SQLite check, as the non-root user', async () => {
      const health = (await waitForStatus(role, '/health', 200)) as { status: string };
      assert.equal(health.status, 'healthy');
      const ready = (await waitForStatus(role, '/ready', 200)) as { checks: { name: string; ok: boolean }[] };
      assert.ok(ready.checks.length > 0 && ready.checks.every((c) => c.ok), JSON.stringify(ready));
      const owner = fs.statSync(`/proc/${role.pid}`).uid;
      assert.notEqual(owner, 0, 'the role does not run as root');
    });

    it('accepts an event (writes only under the data folder; the app folder is not writable to it)', async () => {
      await postAsNewCustomer(role.url, role.url, 'Image', 'image.test');
      assert.ok(fs.readdirSync(sandbox.dataDir).some((f) => f.endsWith('.db') || f.endsWith('.sqlite')), `SQLite files in ${fs.readdirSync(sandbox.dataDir)}`);
      const probe = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', 'touch', path.join(sandbox.appDir, 'dist/x')]);
      if (process.getuid?.() === 0) assert.notEqual(probe.status, 0, 'the app folder must not be writable to the role');
    });
  });

  it('all with TRIGGERS_EMBEDDED_PIPELINE=thread starts its bundled worker thread and is ready', async () => {
    await withRole('all', { TRIGGERS_EMBEDDED_PIPELINE: 'thread', TRIGGERS_DATA_DIR: sandbox.newDataDir() }, async (role) => {
      const ready = (await waitForStatus(role, '/ready', 200)) as { status: string };
      assert.equal(ready.status, 'ready');
      const metrics = await fetch(`${role.url}/metrics`).then((r) => r.text());
      assert.match(metrics, /triggers_/, 'the worker thread reports its metrics');
    });
  });

  it('all with TRIGGERS_DEMO=1 serves the prebuilt console from the image', async () => {
    await withRole('all', { TRIGGERS_DEMO: '1', TRIGGERS_DATA_DIR: sandbox.newDataDir() }, async (role) => {
      const page = (await waitForStatus(role, '/', 200)) as string;
      assert.match(page, /<div id="root">|<script type="module"/);
      assert.doesNotMatch(role.output(), /Building the console/, 'the console is prebuilt, never built at start-up');
    });
  });

  it('all with OTEL_EXPORTER_OTLP_ENDPOINT exports traces from the bundle (OpenTelemetry loads in production)', async () => {
    const received: string[] = [];
    const collector = http.createServer((req, res) => {
      req.resume().on('end', () => {
        received.push(`${req.method} ${req.url}`);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', () => resolve()));
    const endpoint = `http://127.0.0.1:${(collector.address() as import('node:net').AddressInfo).port}`;
    const env = { TRIGGERS_DATA_DIR: sandbox.newDataDir(), TRIGGERS_ADMIN_TOKEN: ADMIN_TOKEN, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '200' };
    try {
      await withRole('all', env, async (role) => {
        await waitForStatus(role, '/ready', 200);
        await postAsNewCustomer(role.url, role.url, 'Trace', 'image.trace');
        const deadline = Date.now() + 15_000;
        while (!received.some((r) => r === 'POST /v1/traces')) {
          if (Date.now() > deadline) assert.fail(`no OTLP export (got ${received.join(', ') || 'nothing'}):\n${role.output()}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      });
    } finally {
      collector.close();
    }
  });

  describe('ingest, inbox, matcher, deliverer on PostgreSQL + Redis + the SQLite queue', function () {
    requireEngine(POSTGRES);
    requireEngine(REDIS);
    let backends: PreparedBackends;
    const roles: Record<string, RoleProcess> = {};

    before(async function () {
      this.timeout(60_000);
      backends = await prepareBackends(
        { eventStore: 'postgres', metadataStore: 'postgres', queue: 'sqlite', cache: 'redis' },
        engineAddresses(),
        'image',
      );
      // The SQLite queue is a file every role shares: the data folder, writable to the role's user.
      const dataDir = sandbox.newDataDir();
      const env = { ...backends.env, TRIGGERS_DATA_DIR: dataDir, TRIGGERS_ADMIN_TOKEN: ADMIN_TOKEN, TRIGGERS_ENV: 'image-test' };
      for (const name of ['ingest', 'inbox', 'matcher', 'deliverer']) roles[name] = await sandbox.start(name, env);
    });
    after(async () => {
      await Promise.all(Object.values(roles).map((r) => r.stop()));
      await backends?.cleanup();
    });

    for (const name of ['ingest', 'inbox', 'matcher', 'deliverer']) {
      it(`${name} answers /health and /ready (PostgreSQL${name === 'ingest' ? ', Redis' : ''} and the queue checked)`, async () => {
        const health = (await waitForStatus(roles[name], '/health', 200)) as { environment: string };
        assert.equal(health.environment, 'image-test');
        const ready = (await waitForStatus(roles[name], '/ready', 200)) as { checks: { name: string; ok: boolean }[] };
        const checked = ready.checks.filter((c) => c.ok).map((c) => c.name);
        for (const engine of name === 'ingest' ? ['postgres', 'redis', 'sqlite'] : ['postgres', 'sqlite']) assert.ok(checked.includes(engine), `${engine} in ${JSON.stringify(ready)}`);
      });
    }

    it('an event posted to ingest is matched by the matcher and read back through inbox', async () => {
      const { apiKey, eventId } = await postAsNewCustomer(roles.inbox.url, roles.ingest.url, 'Image', 'image.e2e');
      const deadline = Date.now() + 20_000;
      for (;;) {
        const event = await json(`${roles.inbox.url}/api/v1/events/${eventId}`, { token: apiKey });
        if (event.status === 200 && event.body.status === 'unmatched') break;
        if (Date.now() > deadline) assert.fail(`event not settled by the matcher: ${JSON.stringify(event)}\n${roles.matcher.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    });
  });

  describe('controller', function () {
    const server = requireApiServer();
    let namespace: string | undefined;
    after(() => {
      if (namespace) deleteNamespace(server.address, namespace);
    });

    it('answers /health and /ready once it has listed Subscriptions, and takes its Lease', async function () {
      this.timeout(90_000);
      installCrds(server.address);
      // A namespace of its own, watched alone, with its own Lease: it never touches other tests' objects.
      namespace = createNamespace(server.address, 'image-controller');
      const dataDir = sandbox.newDataDir();
      const kubeconfig = path.join(dataDir, 'kubeconfig');
      fs.copyFileSync(server.address, kubeconfig);
      fs.chmodSync(kubeconfig, 0o644);
      const env = {
        TRIGGERS_DATA_DIR: dataDir,
        TRIGGERS_CONTROLLER_KUBECONFIG: kubeconfig,
        TRIGGERS_CONTROLLER_NAMESPACES: namespace,
        TRIGGERS_CONTROLLER_LEASE_NAMESPACE: namespace,
        TRIGGERS_CONTROLLER_LEASE_NAME: 'image-test',
        TRIGGERS_CONTROLLER_IDENTITY: 'image-test-controller',
      };
      await withRole('controller', env, async (role) => {
        await waitForStatus(role, '/health', 200);
        const ready = (await waitForStatus(role, '/ready', 200)) as { checks: { name: string; ok: boolean }[] };
        assert.ok(ready.checks.some((c) => c.name === 'kubernetes' && c.ok), JSON.stringify(ready));
        const deadline = Date.now() + 30_000;
        for (;;) {
          const lease = kubectl(server.address, ['get', 'lease', 'image-test', '-n', namespace!, '-o', 'jsonpath={.spec.holderIdentity}']);
          if (lease.stdout === 'image-test-controller') break;
          if (Date.now() > deadline) assert.fail(`no Lease held: ${lease.stdout} ${lease.stderr}\n${role.output()}`);
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      });
    });
  });
});
