import assert from 'node:assert/strict';
import fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { helmTemplate, requireHelm } from './lib/kube.ts';
import { named } from './lib/objects.ts';
import { repoPath } from './lib/repo.ts';

/**
 * Issue 9, item 4: skaffold.yaml (skaffold itself is not installed here). Its schema basics, and
 * that everything it names exists: the Dockerfile, the chart, the values files, the values it sets,
 * and the Service it port-forwards to in the dev profile.
 */

const skaffold = parseYaml(fs.readFileSync(repoPath('skaffold.yaml'), 'utf8'));
const chartValues = parseYaml(fs.readFileSync(repoPath('charts/triggers/values.yaml'), 'utf8'));

/** `a.b.c` of a values object. */
function valueAt(values: any, dotted: string): unknown {
  return dotted.split('.').reduce((at, part) => (at === undefined ? undefined : at[part]), values);
}

const configs = () => [{ name: 'default', ...skaffold }, ...skaffold.profiles.map((p: any) => ({ ...skaffold, ...p, build: p.build ?? skaffold.build, deploy: p.deploy ?? skaffold.deploy }))];

describe('skaffold.yaml', () => {
  it('is a skaffold v4 Config (v4beta11 or newer) with a name', () => {
    const version = /^skaffold\/v4beta(\d+)$/.exec(skaffold.apiVersion);
    assert.ok(version && Number(version[1]) >= 11, skaffold.apiVersion);
    assert.equal(skaffold.kind, 'Config');
    assert.equal(typeof skaffold.metadata.name, 'string');
    const allowed = new Set(['apiVersion', 'kind', 'metadata', 'requires', 'build', 'test', 'render', 'manifests', 'deploy', 'portForward', 'resourceSelector', 'verify', 'customActions', 'profiles']);
    for (const key of Object.keys(skaffold)) assert.ok(allowed.has(key), `top-level ${key} is a skaffold field`);
  });

  it('builds every artifact from the repository Dockerfile, in every profile', () => {
    for (const config of configs()) {
      for (const artifact of config.build.artifacts) {
        assert.ok(fs.existsSync(repoPath(artifact.context ?? '.', artifact.docker?.dockerfile ?? 'Dockerfile')), `${config.name}: ${artifact.image}`);
      }
    }
  });

  it('deploys the chart with values files that exist and values the chart has, tagging with the built image', () => {
    for (const config of configs()) {
      const images = config.build.artifacts.map((a: any) => a.image);
      for (const release of config.deploy.helm.releases) {
        assert.ok(fs.existsSync(repoPath(release.chartPath, 'Chart.yaml')), `${config.name}: ${release.chartPath}`);
        assert.ok(release.valuesFiles.length > 0);
        for (const file of release.valuesFiles) assert.ok(fs.existsSync(repoPath(file)), `${config.name}: ${file}`);
        for (const [key, template] of Object.entries({ ...release.setValueTemplates, ...release.setValues })) {
          assert.notEqual(valueAt(chartValues, key), undefined, `${config.name}: ${key} is a value of the chart`);
          for (const [, image] of String(template).matchAll(/IMAGE_(?:REPO|TAG|DIGEST)_([A-Za-z0-9_]+)/g)) assert.ok(images.includes(image), `${config.name}: ${image} is built`);
        }
        assert.match(release.setValueTemplates['image.repository'], /IMAGE_REPO_/);
        assert.match(release.setValueTemplates['image.tag'], /IMAGE_TAG_/);
      }
    }
  });

  it('has a dev profile on the embedded values with a port-forward', () => {
    const dev = skaffold.profiles.find((p: any) => p.name === 'dev');
    assert.ok(dev);
    assert.deepEqual(dev.deploy.helm.releases[0].valuesFiles, ['charts/triggers/examples/embedded.yaml']);
    assert.equal(dev.portForward[0].resourceType, 'service');
  });

  describe('with helm', () => {
    const helm = requireHelm();

    it('the dev profile port-forwards to a Service port the chart renders with its values', () => {
      const dev = skaffold.profiles.find((p: any) => p.name === 'dev');
      const release = dev.deploy.helm.releases[0];
      const objects = helmTemplate(helm.address, { release: release.name, namespace: release.namespace, values: repoPath(release.valuesFiles[0]) });
      for (const forward of dev.portForward) {
        const service = named(objects, 'Service', forward.resourceName);
        assert.ok(service.spec.ports.some((p: any) => p.port === forward.port), `${forward.resourceName}:${forward.port}`);
        assert.equal(forward.namespace, release.namespace);
      }
    });
  });
});
