import assert from 'node:assert/strict';
import { OVERLAYS, OVERLAY_NAMESPACE, renderForOverlay, staleFiles } from '../sync.ts';
import { CLUSTER_SCOPED_KINDS, parseObjects, requireHelm, runTool, type KubeObject } from './lib/kube.ts';
import { repoPath } from './lib/repo.ts';

/**
 * Issue 9, item 4: the kustomize base and overlays (kubectl's built-in kustomize) make the same
 * objects as the chart with the matching values file, and every generated file is current.
 */

const key = (o: KubeObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

function kustomize(dir: string): KubeObject[] {
  const result = runTool('kubectl', ['kustomize', dir]);
  assert.equal(result.status, 0, result.stderr);
  return parseObjects(result.stdout);
}

describe('k8s/: kustomize base and overlays', function () {
  this.timeout(60_000);
  const helm = requireHelm();

  it('the generated files (CRD copies, schema settings, overlay renders) are current: npx tsx charts/sync.ts --check', () => {
    assert.deepEqual(staleFiles(helm.address), [], 'run npx tsx charts/sync.ts');
  });

  it('the base holds the namespace and the Subscription CRD', () => {
    const base = kustomize(repoPath('k8s/base'));
    assert.deepEqual(base.map(key).sort(), ['CustomResourceDefinition//subscriptions.triggers.dev', `Namespace//${OVERLAY_NAMESPACE}`]);
  });

  for (const [overlay, valuesFile] of Object.entries(OVERLAYS)) {
    it(`overlays/${overlay} makes the objects of helm template with ${valuesFile} (+ the base), object for object`, () => {
      const built = kustomize(repoPath('k8s/overlays', overlay));
      const chart = parseObjects(renderForOverlay(valuesFile, helm.address)).map((o) =>
        CLUSTER_SCOPED_KINDS.has(o.kind) ? o : { ...o, metadata: { ...o.metadata, namespace: OVERLAY_NAMESPACE } },
      );
      const base = kustomize(repoPath('k8s/base'));
      const expected = new Map([...base, ...chart].map((o) => [key(o), o]));
      const actual = new Map(built.map((o) => [key(o), o]));
      assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort());
      for (const [k, object] of actual) assert.deepEqual(object, expected.get(k), k);
      assert.ok(built.some((o) => o.kind === 'Deployment'));
    });
  }
});
