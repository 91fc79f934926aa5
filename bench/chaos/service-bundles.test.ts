import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpClient } from '@triggers/core/testing';
import { engineAddresses, KAFKA, POSTGRES, prepareBackends, REDIS, requireEngine, startServiceProcesses, type PreparedBackends, type ServiceProcesses } from '@triggers/testkit';
import { buildServiceBundles, type ServiceBundles } from './service-bundles.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SERVICES = ['ingest', 'inbox', 'matcher', 'deliverer'];
/** npm packages of one backend each: a process on other backends has no use for them. */
const BACKEND_PACKAGES = ['@aws-sdk/client-dynamodb', '@aws-sdk/client-sqs', '@aws-sdk/lib-dynamodb', 'kafkajs', 'ioredis', 'pg'];

/** Every npm package a bundle loads before its first line runs: its static imports, and those of the chunks it imports statically. */
function packagesLoadedAtStart(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/^import\s+(?:[^'"]*?\s+from\s+)?"([^"]+)";?$/gms)) {
      const specifier = match[1];
      if (specifier.startsWith('.')) visit(path.resolve(path.dirname(file), specifier));
      else if (!specifier.startsWith('node:')) packages.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]);
    }
  };
  visit(entry);
  return packages;
}

describe('bench/chaos: the services from prebuilt bundles', function () {
  this.timeout(120_000);
  const built: ServiceBundles[] = [];
  after(() => built.forEach((b) => b.remove()));

  it('split bundles load no backend package at start-up; the image-style ones load them all', async () => {
    const split = await buildServiceBundles(ROOT);
    built.push(split);
    const whole = await buildServiceBundles(ROOT, { splitting: false });
    built.push(whole);
    for (const service of SERVICES) {
      const entry = (dir: string) => path.join(dir, 'services', service, 'src', 'main.mjs');
      const splitLoads = packagesLoadedAtStart(entry(split.dir));
      assert.deepEqual(BACKEND_PACKAGES.filter((p) => splitLoads.has(p)), [], `${service} (split)`);
      assert.ok(splitLoads.has('express') && splitLoads.has('zod'), `${service} (split) still loads its own packages: ${[...splitLoads].join(', ')}`);
      const wholeLoads = packagesLoadedAtStart(entry(whole.dir));
      assert.deepEqual(BACKEND_PACKAGES.filter((p) => wholeLoads.has(p)), BACKEND_PACKAGES, `${service} (whole)`);
    }
  });

  describe('on PostgreSQL + Redis + Kafka', function () {
    requireEngine(POSTGRES);
    requireEngine(REDIS);
    requireEngine(KAFKA);
    let backends: PreparedBackends | undefined;
    let services: ServiceProcesses | undefined;
    after(async () => {
      await services?.stop();
      await backends?.cleanup();
    });

    it('the four services start, answer /ready, and a killed one starts again from its bundle', async function () {
      this.timeout(240_000);
      const bundles = await buildServiceBundles(ROOT);
      built.push(bundles);
      backends = await prepareBackends({ eventStore: 'postgres', metadataStore: 'postgres', queue: 'kafka', cache: 'redis' }, engineAddresses(), 'service-bundles');
      services = await startServiceProcesses({ env: { ...backends.env, TRIGGERS_DEMO: '0' }, bundleDir: bundles.dir, startTimeoutMs: 180_000 });
      for (const service of services.all) {
        assert.match(readFileSync(`/proc/${service.pid}/cmdline`, 'utf8'), /service-bundles-[^/]+\/services\/[a-z]+\/src\/main\.mjs/, `${service.name} runs its bundle`);
        const ready = await httpClient(service.url).request('GET', '/ready');
        assert.equal(ready.status, 200, `${service.name}: ${ready.text}`);
      }
      const restarted = await services.restart('matcher', { signal: 'SIGKILL' });
      assert.match(readFileSync(`/proc/${restarted.pid}/cmdline`, 'utf8'), /services\/matcher\/src\/main\.mjs/);
      assert.equal((await httpClient(restarted.url).request('GET', '/health')).status, 200);
    });
  });
});
