import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OVERLAYS } from '../sync.ts';
import {
  CLUSTER_SCOPED_KINDS,
  VALUES_FILES,
  applyDryRun,
  createNamespace,
  deleteNamespace,
  helmTemplate,
  installCrds,
  kubectl,
  parseObjects,
  requireApiServer,
  requireHelm,
  runTool,
  type KubeObject,
} from './lib/kube.ts';
import { kinds } from './lib/objects.ts';
import { repoPath } from './lib/repo.ts';

/**
 * Issue 9, item 5: every object the chart renders (default values and each values file) and every
 * kustomize overlay builds is sent to the real kube-apiserver with server-side dry-run, so the real
 * schemas (ours, KEDA's and prometheus-operator's CRDs installed first) and admission judge it.
 */

/** Asserts `kubectl apply --dry-run=server` accepted every object (one "… (server dry run)" line each). */
function assertAccepted(kubeconfig: string, namespace: string, objects: KubeObject[], what: string): void {
  const result = applyDryRun(kubeconfig, namespace, objects);
  assert.equal(result.status, 0, `${what}: ${result.stderr}`);
  const accepted = result.stdout.split('\n').filter((l) => / \(server dry run\)$/.test(l));
  assert.equal(accepted.length, objects.length, `${what}: ${result.stdout}`);
}

describe('dry-run on the real API server: chart and overlays', function () {
  this.timeout(120_000);
  const helm = requireHelm();
  const server = requireApiServer();
  let namespace: string;
  const extraNamespaces: string[] = [];

  before(function () {
    this.timeout(90_000);
    installCrds(server.address);
    namespace = createNamespace(server.address, 'chart-dry-run');
  });
  after(() => {
    if (namespace) deleteNamespace(server.address, namespace);
    for (const ns of extraNamespaces) deleteNamespace(server.address, ns);
  });

  for (const [name, file] of Object.entries(VALUES_FILES)) {
    it(`every object of ${name === 'default' ? 'the default values' : `examples/${name}.yaml`} (CRD included) passes server-side dry-run`, () => {
      const objects = helmTemplate(helm.address, { values: file, namespace, includeCrds: true });
      assert.ok(objects.length >= 8);
      assertAccepted(server.address, namespace, objects, name);
    });
  }

  it('the per-namespace RBAC variant (TRIGGERS_CONTROLLER_NAMESPACES) passes too', () => {
    const watched = [createNamespace(server.address, 'chart-watched'), createNamespace(server.address, 'chart-watched')];
    extraNamespaces.push(...watched);
    const objects = helmTemplate(helm.address, { values: VALUES_FILES['kafka-postgres'], namespace, set: [`config.TRIGGERS_CONTROLLER_NAMESPACES=${watched.join('\\,')}`] });
    assert.ok(!kinds(objects).includes('ClusterRole'));
    assertAccepted(server.address, namespace, objects, 'per-namespace RBAC');
  });

  it('an object the real schemas refuse is refused: the dry-run is not a rubber stamp', () => {
    const objects = helmTemplate(helm.address, { values: VALUES_FILES['aws-sqs-dynamodb'], namespace });
    const scaled = structuredClone(objects.find((o) => o.kind === 'ScaledObject')!);
    scaled.spec.minReplicaCount = 'one';
    const refused = applyDryRun(server.address, namespace, [scaled]);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /minReplicaCount/);
    const hpa = structuredClone(objects.find((o) => o.kind === 'HorizontalPodAutoscaler')!);
    hpa.spec.maxReplicas = 0;
    assert.notEqual(applyDryRun(server.address, namespace, [hpa]).status, 0, 'HPA validation (maxReplicas ≥ 1) runs');
  });

  for (const overlay of Object.keys(OVERLAYS)) {
    it(`every object kubectl kustomize k8s/overlays/${overlay} builds passes server-side dry-run (in a namespace of its own)`, () => {
      // The overlay, moved into this file's namespace by one more kustomization on top of it.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'triggers-kustomize-'));
      try {
        fs.writeFileSync(
          path.join(dir, 'kustomization.yaml'),
          `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ${namespace}\nresources:\n  - ${path.relative(dir, repoPath('k8s/overlays', overlay))}\n`,
        );
        const built = runTool('kubectl', ['kustomize', dir]);
        assert.equal(built.status, 0, built.stderr);
        const objects = parseObjects(built.stdout).filter((o) => o.kind !== 'Namespace');
        assert.ok(objects.every((o) => CLUSTER_SCOPED_KINDS.has(o.kind) || o.metadata.namespace === namespace));
        assertAccepted(server.address, namespace, objects, overlay);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('the Namespace of the base is valid too', () => {
    const result = kubectl(server.address, ['apply', '--dry-run=server', '-f', repoPath('k8s/base/namespace.yaml')]);
    assert.equal(result.status, 0, result.stderr);
  });
});
