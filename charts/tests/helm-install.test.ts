import assert from 'node:assert/strict';
import { CHART_DIR, VALUES_FILES, createNamespace, deleteNamespace, installCrds, kubectl, requireApiServer, requireHelm, runTool } from './lib/kube.ts';

/**
 * docs/kubernetes.md's install, upgrade and rollback, with helm itself against the real API server
 * (objects are created for real; nothing runs pods here, so `--wait` is not used): the release
 * installs, an upgrade changes the settings and rolls the pod template, a rollback restores them,
 * and an uninstall removes the objects but keeps the embedded mode's data claim.
 */

describe('helm install, upgrade, rollback, uninstall on the real API server', function () {
  this.timeout(120_000);
  const helm = requireHelm();
  const server = requireApiServer();
  const namespaces: string[] = [];

  before(function () {
    this.timeout(90_000);
    installCrds(server.address);
  });
  after(() => {
    for (const ns of namespaces) deleteNamespace(server.address, ns);
  });

  const helmRun = (args: string[]) => {
    const result = runTool(helm.address, [...args, '--kubeconfig', server.address]);
    assert.equal(result.status, 0, `helm ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  const get = (namespace: string, what: string, jsonpath: string) => kubectl(server.address, ['get', '-n', namespace, what, '-o', `jsonpath=${jsonpath}`]);

  for (const name of ['aws-sqs-dynamodb', 'embedded']) {
    it(`examples/${name}.yaml: install, upgrade (a setting changes, the pods roll), rollback, uninstall`, () => {
      const namespace = createNamespace(server.address, `chart-${name.slice(0, 8)}`);
      namespaces.push(namespace);
      const base = ['--namespace', namespace, '--values', VALUES_FILES[name]!];
      const workload = name === 'embedded' ? 'deploy/triggers-embedded' : 'deploy/triggers-ingest';

      helmRun(['install', 'triggers', CHART_DIR, ...base]);
      assert.equal(get(namespace, 'configmap/triggers-config', '{.data.TRIGGERS_MAX_ATTEMPTS}').stdout, '', 'unset: the service default');
      const checksum1 = get(namespace, workload, "{.spec.template.metadata.annotations['checksum/config']}").stdout;
      assert.match(checksum1, /^[0-9a-f]{64}$/);

      helmRun(['upgrade', 'triggers', CHART_DIR, ...base, '--set', 'config.TRIGGERS_MAX_ATTEMPTS=7']);
      assert.equal(get(namespace, 'configmap/triggers-config', '{.data.TRIGGERS_MAX_ATTEMPTS}').stdout, '7');
      const checksum2 = get(namespace, workload, "{.spec.template.metadata.annotations['checksum/config']}").stdout;
      assert.notEqual(checksum2, checksum1, 'the pod template changed, so the pods roll');

      helmRun(['rollback', 'triggers', '1', '--namespace', namespace]);
      assert.equal(get(namespace, 'configmap/triggers-config', '{.data.TRIGGERS_MAX_ATTEMPTS}').stdout, '');
      assert.equal(get(namespace, workload, "{.spec.template.metadata.annotations['checksum/config']}").stdout, checksum1);
      assert.match(helmRun(['history', 'triggers', '--namespace', namespace]), /3\s.*deployed.*Rollback to 1/);

      helmRun(['uninstall', 'triggers', '--namespace', namespace]);
      assert.notEqual(get(namespace, 'configmap/triggers-config', '{.metadata.name}').status, 0, 'objects removed');
      const claim = get(namespace, 'pvc/triggers-data', '{.metadata.name}');
      if (name === 'embedded') assert.equal(claim.stdout, 'triggers-data', 'the data claim is kept (helm.sh/resource-policy: keep)');
    });
  }
});
