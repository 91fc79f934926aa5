import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { Webhook } from 'standardwebhooks';
import { createBackends, createLogger, loadConfig, type Backends } from '@triggers/core/runtime';
import { systemClock } from '@triggers/core/domain';
import { kubectl, kubectlOk, type ReceivedRequest } from '@triggers/testkit';
import { startController, type RunningController } from './index.ts';
import { createKubeClient, loadKubeConfig, type KubeClient } from './kube/kube-client.ts';
import type { SubscriptionResource } from './subscription-resource.ts';

/**
 * Shared by the controller's end-to-end tests (real kube-apiserver, real metadata store): the
 * CRD, a namespace of each test file's own, controllers started in this process (each with its
 * own API client, store connection and metrics registry, as separate replicas would have), and
 * small waits on a resource's status.
 */

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CRD_FILE = path.join(ROOT, 'crds/subscriptions.triggers.dev.yaml');

/** Applies the CRD and waits until the API server serves it. */
export async function installCrd(kubeconfig: string): Promise<void> {
  await kubectlOk(kubeconfig, ['apply', '--server-side', '--force-conflicts', '-f', CRD_FILE]);
  await kubectlOk(kubeconfig, ['wait', '--for=condition=Established', '--timeout=30s', 'crd/subscriptions.triggers.dev']);
}

/** A fresh namespace (a deleted namespace stays Terminating here: nothing finalises it, so each run makes its own). */
export async function createNamespace(kubeconfig: string, label: string): Promise<string> {
  const namespace = `${label}-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
  await kubectlOk(kubeconfig, ['create', 'namespace', namespace]);
  return namespace;
}

/**
 * Lets a test's namespace go: its Subscriptions lose their finalizers first (no controller is left
 * to run them), then the namespace is deleted without waiting. Failures are ignored (clean-up).
 */
export async function deleteNamespace(kubeconfig: string, namespace: string): Promise<void> {
  const names = await kubectl(kubeconfig, ['get', '-n', namespace, 'subscriptions.triggers.dev', '-o', 'name']);
  for (const name of names.stdout.split('\n').filter(Boolean)) {
    await kubectl(kubeconfig, ['patch', '-n', namespace, name, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
  }
  await kubectl(kubeconfig, ['delete', 'namespace', namespace, '--wait=false']);
}

export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

export function secretManifest(namespace: string, name: string, value: string): object {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'Opaque', stringData: { secret: value } };
}

export function subscriptionManifest(namespace: string, name: string, spec: Record<string, unknown>): object {
  return { apiVersion: 'triggers.dev/v1alpha1', kind: 'Subscription', metadata: { name, namespace }, spec };
}

/**
 * `kubectl apply` of JSON objects (JSON is YAML); returns kubectl's result so a test can expect a
 * refusal. Client-side validation is off, so a refusal is the API server's (schema, CEL), not kubectl's.
 */
export function apply(kubeconfig: string, ...objects: object[]) {
  return kubectl(kubeconfig, ['apply', '--validate=false', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) });
}

export async function applyOk(kubeconfig: string, ...objects: object[]): Promise<void> {
  const result = await apply(kubeconfig, ...objects);
  assert.equal(result.code, 0, result.stderr);
}

export async function getSubscription(kubeconfig: string, namespace: string, name: string): Promise<SubscriptionResource | null> {
  const result = await kubectl(kubeconfig, ['get', '-n', namespace, 'subscriptions.triggers.dev', name, '-o', 'json']);
  if (result.code !== 0) {
    if (/NotFound|not found/.test(result.stderr)) return null;
    throw new Error(result.stderr);
  }
  return JSON.parse(result.stdout) as SubscriptionResource;
}

export const condition = (resource: SubscriptionResource | null, type: 'Ready' | 'Synced') => resource?.status?.conditions?.find((c) => c.type === type);

/** Polls the resource until `accept` holds; fails with its last state. */
export async function waitForSubscription(
  kubeconfig: string,
  namespace: string,
  name: string,
  accept: (resource: SubscriptionResource | null) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<SubscriptionResource | null> {
  const deadline = Date.now() + timeoutMs;
  let last: SubscriptionResource | null = null;
  for (;;) {
    last = await getSubscription(kubeconfig, namespace, name);
    if (accept(last)) return last;
    if (Date.now() > deadline) assert.fail(`Timed out after ${timeoutMs} ms waiting for ${namespace}/${name}: ${what}; last: ${JSON.stringify(last?.status ?? last)}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/** Ready=True for the current generation. */
export const isReadyNow = (r: SubscriptionResource | null): boolean =>
  !!r && condition(r, 'Ready')?.status === 'True' && r.status?.observedGeneration === r.metadata.generation;

export async function waitUntilTrue(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

export interface TestController {
  readonly identity: string;
  readonly controller: RunningController;
  readonly kube: KubeClient;
  readonly registry: Registry;
  readonly backends: Backends;
  /** Reconciles by result so far, from this replica's metrics. */
  reconciles(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/**
 * A controller replica in this process, on the metadata store the `env` settings point at (the
 * same backend factory the services use) and its own data folder.
 */
export async function startTestController(options: { kubeconfig: string; namespace: string; env: Record<string, string>; identity: string; resyncMs?: number; leaseDurationMs?: number }): Promise<TestController> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `triggers-controller-${options.identity}-`));
  const config = loadConfig({
    TRIGGERS_LOG_LEVEL: process.env.TRIGGERS_LOG_LEVEL ?? 'silent',
    ...options.env,
    TRIGGERS_DATA_DIR: dataDir,
    TRIGGERS_CONTROLLER_KUBECONFIG: options.kubeconfig,
    TRIGGERS_CONTROLLER_NAMESPACES: options.namespace,
    TRIGGERS_CONTROLLER_LEASE_NAMESPACE: options.namespace,
    TRIGGERS_CONTROLLER_LEASE_NAME: 'triggers-controller',
    TRIGGERS_CONTROLLER_LEASE_DURATION_MS: String(options.leaseDurationMs ?? 3000),
    TRIGGERS_CONTROLLER_RESYNC_MS: String(options.resyncMs ?? 1000),
    TRIGGERS_CONTROLLER_IDENTITY: options.identity,
  });
  const log = createLogger({ level: config.logLevel, service: `controller-${options.identity}` });
  const backends = await createBackends(config, { clock: systemClock, log, needs: { cache: false, pipeline: false } });
  const kube = createKubeClient(loadKubeConfig(config.controller.kubeconfig));
  const registry = new Registry();
  const controller = startController({ config, kube, metadataStore: backends.metadataStore, log, registry });
  let stopped = false;
  return {
    identity: options.identity,
    controller,
    kube,
    registry,
    backends,
    async reconciles() {
      const metric = await registry.getSingleMetric('triggers_controller_reconciles_total')!.get();
      return Object.fromEntries(metric.values.map((v) => [String(v.labels.result), v.value]));
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await controller.stop();
      await backends.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Verifies a received webhook's Standard Webhooks signature with `secret` (throws when none matches). */
export function verifyWebhook(request: ReceivedRequest, secret: string): void {
  const header = (name: string) => String(request.headers[name]);
  new Webhook(secret).verify(request.body, { 'webhook-id': header('webhook-id'), 'webhook-timestamp': header('webhook-timestamp'), 'webhook-signature': header('webhook-signature') });
}

/**
 * Waits (up to 3 s) until the kubectl processes an `after` hook ran have fully closed their
 * handles, so the suite ends with nothing of its own still closing.
 */
export async function settleChildProcesses(): Promise<void> {
  const deadline = Date.now() + 3000;
  while (process.getActiveResourcesInfo().includes('ProcessWrap') && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
