import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { parseAllDocuments, stringify } from 'yaml';
import { requireEngine, type Engine } from '@triggers/testkit';
import { repoPath } from './repo.ts';

/** The variables the chart and manifest tests read their tools from (set by .ci/run). */
export const KUBECONFIG_VARIABLE = 'TRIGGERS_TEST_KUBECONFIG';
export const HELM_VARIABLE = 'TRIGGERS_TEST_HELM';

export const CHART_DIR = repoPath('charts/triggers');
/** The documented values files, by name; `default` is the chart's own values.yaml alone. */
export const VALUES_FILES: Record<string, string | undefined> = {
  default: undefined,
  embedded: repoPath('charts/triggers/examples/embedded.yaml'),
  'aws-sqs-dynamodb': repoPath('charts/triggers/examples/aws-sqs-dynamodb.yaml'),
  'kafka-postgres': repoPath('charts/triggers/examples/kafka-postgres.yaml'),
};

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: any;
}

export interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runTool(command: string, args: string[], input?: string): CommandResult {
  const result = spawnSync(command, args, { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function probeExecutable(file: string): Promise<void> {
  if (!fs.existsSync(file)) return Promise.reject(new Error(`${file} does not exist`));
  const version = runTool(file, ['version', '--short']);
  return version.status === 0 ? Promise.resolve() : Promise.reject(new Error(version.stderr.trim()));
}

/** helm, from TRIGGERS_TEST_HELM (skips the suite without it; fails under TRIGGERS_REQUIRE_BACKENDS=1). */
export function requireHelm(): Engine {
  return requireEngine({
    name: 'helm',
    variable: HELM_VARIABLE,
    probe: probeExecutable,
    hint: 'TRIGGERS_TEST_HELM=$(scripts/engines/kubernetes.sh bin)/helm (scripts/engines/kubernetes.sh install builds it)',
  });
}

/** The real API server, through the kubeconfig in TRIGGERS_TEST_KUBECONFIG. */
export function requireApiServer(): Engine {
  return requireEngine({
    name: 'Kubernetes API server',
    variable: KUBECONFIG_VARIABLE,
    probe: async (file) => {
      if (!fs.existsSync(file)) throw new Error(`${file} does not exist`);
      const ready = runTool('kubectl', ['--kubeconfig', file, 'get', '--raw', '/readyz']);
      if (ready.status !== 0 || ready.stdout.trim() !== 'ok') throw new Error(ready.stderr.trim() || ready.stdout.trim());
    },
    hint: 'scripts/engines/kubernetes.sh start; TRIGGERS_TEST_KUBECONFIG=$(scripts/engines/kubernetes.sh kubeconfig)',
    timeoutMs: 10_000,
  });
}

export function parseObjects(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors[0].message}`);
      return doc.toJS() as KubeObject | null;
    })
    .filter((o): o is KubeObject => o !== null && typeof o === 'object');
}

export function toYaml(objects: KubeObject[]): string {
  return objects.map((o) => stringify(o)).join('---\n');
}

/** `helm template` of the chart; throws with helm's message when it fails. */
export function helmTemplate(helm: string, options: { values?: string; set?: string[]; release?: string; namespace?: string; includeCrds?: boolean } = {}): KubeObject[] {
  const result = helmTemplateRaw(helm, options);
  if (result.status !== 0) {
    const hint = /additional properties '(TRIGGERS_[A-Z0-9_]+|PORT)' not allowed/.test(result.stderr)
      ? '\n(a setting values.schema.json does not know yet: run npx tsx charts/sync.ts after adding it to config.ts and values.yaml)'
      : '';
    throw new Error(`helm template failed: ${result.stderr}${hint}`);
  }
  return parseObjects(result.stdout);
}

export function helmTemplateRaw(helm: string, options: { values?: string; set?: string[]; release?: string; namespace?: string; includeCrds?: boolean } = {}): CommandResult {
  const args = ['template', options.release ?? 'triggers', CHART_DIR, '--namespace', options.namespace ?? 'triggers'];
  if (options.values) args.push('--values', options.values);
  for (const set of options.set ?? []) args.push('--set', set);
  if (options.includeCrds) args.push('--include-crds');
  return runTool(helm, args);
}

export function kubectl(kubeconfig: string, args: string[], input?: string): CommandResult {
  return runTool('kubectl', ['--kubeconfig', kubeconfig, ...args], input);
}

/** Creates a namespace of its own for one test file (namespaced dry-runs need it to exist). */
export function createNamespace(kubeconfig: string, prefix: string): string {
  const name = `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  const result = kubectl(kubeconfig, ['create', 'namespace', name]);
  if (result.status !== 0) throw new Error(`kubectl create namespace ${name}: ${result.stderr}`);
  return name;
}

export function deleteNamespace(kubeconfig: string, name: string): void {
  // No controller-manager here: the namespace stays Terminating, harmless and unique per run.
  kubectl(kubeconfig, ['delete', 'namespace', name, '--wait=false']);
}

/**
 * Installs our CRD and the upstream KEDA and prometheus-operator CRDs (from
 * `scripts/engines/kubernetes.sh crds`), so the real API server validates those objects, and waits
 * until they are served.
 */
export function installCrds(kubeconfig: string): void {
  const upstream = runTool(repoPath('scripts/engines/kubernetes.sh'), ['crds']).stdout.trim();
  const files = [
    // The source, not the chart's copy: the API server is shared with the operator's tests, and a
    // stale copy (which the kustomize test reports) must not replace a newer CRD under them.
    repoPath('crds/subscriptions.triggers.dev.yaml'),
    ...['keda.sh_scaledobjects.yaml', 'keda.sh_triggerauthentications.yaml', 'monitoring.coreos.com_servicemonitors.yaml', 'monitoring.coreos.com_prometheusrules.yaml'].map(
      (f) => `${upstream}/${f}`,
    ),
  ];
  for (const file of files) if (!fs.existsSync(file)) throw new Error(`${file} is missing (scripts/engines/kubernetes.sh install fetches it)`);
  const applied = kubectl(kubeconfig, ['apply', '--server-side', '--force-conflicts', '--field-manager', 'triggers-chart-tests', ...files.flatMap((f) => ['-f', f])]);
  if (applied.status !== 0) throw new Error(`installing CRDs: ${applied.stderr}`);
  const names = ['subscriptions.triggers.dev', 'scaledobjects.keda.sh', 'triggerauthentications.keda.sh', 'servicemonitors.monitoring.coreos.com', 'prometheusrules.monitoring.coreos.com'];
  const established = kubectl(kubeconfig, ['wait', '--for=condition=Established', '--timeout=60s', ...names.map((n) => `crd/${n}`)]);
  if (established.status !== 0) throw new Error(`CRDs not established: ${established.stderr}`);
}

/** The cluster-scoped kinds the chart renders; every other object lives in a namespace. */
export const CLUSTER_SCOPED_KINDS = new Set(['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding']);

/**
 * `kubectl apply --dry-run=server` of the objects; a namespaced object without a namespace goes to
 * `namespace` (those that name their own, e.g. a Role in a watched namespace, keep it).
 */
export function applyDryRun(kubeconfig: string, namespace: string, objects: KubeObject[]): CommandResult {
  const placed = objects.map((o) =>
    CLUSTER_SCOPED_KINDS.has(o.kind) || o.metadata.namespace ? o : { ...o, metadata: { ...o.metadata, namespace } },
  );
  return kubectl(kubeconfig, ['apply', '--dry-run=server', '-f', '-'], toYaml(placed));
}
