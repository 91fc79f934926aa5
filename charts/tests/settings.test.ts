import assert from 'node:assert/strict';
import fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { SETTING_NAMES } from '@triggers/core/runtime';
import { CHART_DIR, VALUES_FILES, helmTemplate, helmTemplateRaw, requireHelm, runTool } from './lib/kube.ts';
import { containers, envNames, named, ofKind } from './lib/objects.ts';
import { repoPath } from './lib/repo.ts';

/**
 * Issue 9: the chart's values map one-to-one onto every setting of packages/core/src/config.ts
 * (its exported SETTING_NAMES, never a list written here), nothing the pods get is not a setting,
 * and values.schema.json rejects typos.
 */

const values = parseYaml(fs.readFileSync(repoPath('charts/triggers/values.yaml'), 'utf8'));
const schema = JSON.parse(fs.readFileSync(repoPath('charts/triggers/values.schema.json'), 'utf8'));
const SETTINGS = new Set<string>(SETTING_NAMES);

describe('chart settings: values ↔ packages/core/src/config.ts', function () {
  this.timeout(60_000);

  it('values.yaml lists every setting once, in config or (the secrets) secretConfig', () => {
    const listed = [...Object.keys(values.config), ...Object.keys(values.secretConfig)];
    assert.deepEqual([...listed].sort(), [...SETTINGS].sort(), 'config + secretConfig keys are exactly the settings');
    assert.equal(new Set(listed).size, listed.length, 'no setting in both maps');
    for (const name of Object.keys(values.secretConfig)) assert.match(name, /_TOKEN$|_URL$|_API_KEY$|_SECRET_KEY(_PREVIOUS)?$/, `${name} is a credential`);
    for (const name of Object.keys(values.config)) assert.doesNotMatch(name, /_TOKEN$|_API_KEY$|_PASSWORD$|POSTGRES_URL$|REDIS_URL$|_SECRET_KEY/, `${name} belongs in secretConfig`);
  });

  it('values.schema.json knows every setting, in the same map as values.yaml, and no other', () => {
    assert.deepEqual(Object.keys(schema.properties.config.properties).sort(), Object.keys(values.config).sort(), 'values.schema.json is out of date: npx tsx charts/sync.ts');
    assert.deepEqual(Object.keys(schema.properties.secretConfig.properties).sort(), Object.keys(values.secretConfig).sort());
    assert.equal(schema.properties.config.additionalProperties, false);
    for (const component of ['ingest', 'inbox', 'matcher', 'deliverer', 'controller', 'embedded']) {
      assert.deepEqual([...schema.properties[component].properties.env.propertyNames.enum].sort(), [...SETTINGS].sort(), `${component}.env`);
    }
  });

  describe('with helm', () => {
    const helm = requireHelm();

    it('every setting set in values reaches the ConfigMap or the Secret under its own name', () => {
      const set = SETTING_NAMES.map((name) => `${name in values.secretConfig ? 'secretConfig' : 'config'}.${name}=value-of-${name.toLowerCase().replaceAll('_', '-')}`);
      // Rendering only: embedded mode checks no backend combination, so any value passes through.
      const objects = helmTemplate(helm.address, { set });
      const config = named(objects, 'ConfigMap', 'triggers-config').data;
      const secret = named(objects, 'Secret', 'triggers-secrets').stringData;
      for (const name of SETTING_NAMES) {
        const where = name in values.secretConfig ? secret : config;
        assert.equal(where[name], `value-of-${name.toLowerCase().replaceAll('_', '-')}`, name);
      }
      assert.equal(Object.keys(config).length + Object.keys(secret).length, SETTINGS.size);
    });

    it('every environment variable a container gets, under every values file, is a real setting', () => {
      for (const [name, file] of Object.entries(VALUES_FILES)) {
        const objects = helmTemplate(helm.address, { values: file });
        for (const { owner, container } of containers(objects)) {
          for (const variable of envNames(objects, container)) assert.ok(SETTINGS.has(variable), `${name}: ${owner.metadata.name}/${container.name} gets ${variable}, which config.ts does not read`);
        }
        // The Grafana dashboards' ConfigMaps hold JSON, not settings.
        const settingMaps = ofKind(objects, 'ConfigMap').filter((m) => m.metadata.labels?.['app.kubernetes.io/component'] !== 'dashboards');
        for (const map of [...settingMaps, ...ofKind(objects, 'Secret')]) {
          for (const key of Object.keys(map.data ?? map.stringData ?? {})) assert.ok(SETTINGS.has(key), `${name}: ${map.kind} ${map.metadata.name} holds ${key}`);
        }
      }
    });

    it('extraEnv passes variables that are not settings (OTEL_*) to every container, and refuses a setting', () => {
      const objects = helmTemplate(helm.address, {
        values: VALUES_FILES['kafka-postgres'],
        set: ['extraEnv[0].name=OTEL_EXPORTER_OTLP_ENDPOINT', 'extraEnv[0].value=http://otel-collector.observability:4318'],
      });
      for (const { owner, container } of containers(objects)) {
        assert.ok(container.env.some((e: any) => e.name === 'OTEL_EXPORTER_OTLP_ENDPOINT' && e.value === 'http://otel-collector.observability:4318'), owner.metadata.name);
      }
      for (const name of ['TRIGGERS_ENV', 'PORT']) {
        const refused = helmTemplateRaw(helm.address, { set: [`extraEnv[0].name=${name}`, 'extraEnv[0].value=x'] });
        assert.notEqual(refused.status, 0, name);
        assert.match(refused.stderr, /extraEnv\/0\/name/);
      }
    });

    it('an empty value leaves the setting unset (the service default applies)', () => {
      const config = named(helmTemplate(helm.address), 'ConfigMap', 'triggers-config').data;
      for (const [name, value] of Object.entries(values.config)) assert.equal(name in config, value !== '', name);
    });

    it('values.schema.json rejects a typo in a top-level key, a setting name and a component setting', () => {
      const typos: [string, RegExp][] = [
        ['ingres.enabled=true', /additional properties 'ingres' not allowed/],
        ['config.TRIGGERS_QUEU=sqs', /\/config.*additional properties 'TRIGGERS_QUEU' not allowed/s],
        ['secretConfig.TRIGGERS_POSTGRES_URI=postgres://x', /additional properties 'TRIGGERS_POSTGRES_URI' not allowed/],
        ['ingest.env.TRIGGERS_RATE_LIMIT=5', /TRIGGERS_RATE_LIMIT/],
        ['mode=distribute', /mode/],
        ['ingest.replicaz=3', /additional properties 'replicaz' not allowed/],
      ];
      for (const [set, message] of typos) {
        const result = helmTemplateRaw(helm.address, { set: [set] });
        assert.notEqual(result.status, 0, `${set} is refused`);
        assert.match(result.stderr, /values don't meet the specifications of the schema/, set);
        assert.match(result.stderr, message, set);
      }
      const lint = runTool(helm.address, ['lint', '--strict', CHART_DIR, '--set', 'ingres.enabled=true']);
      assert.notEqual(lint.status, 0, 'helm lint refuses it too');
    });
  });
});
