import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { KUBERNETES, kubectl, requireEngine } from '@triggers/testkit';
import { ROOT, installCrd } from './e2e-harness.testing.ts';
import { desiredSubscription } from './reconcile/desired-subscription.ts';
import type { SubscriptionResource } from './subscription-resource.ts';

/** k8s/samples/: one valid Subscription per selector kind and the Secret they reference. */
const SAMPLES = path.join(ROOT, 'k8s/samples');
const documents = fs
  .readdirSync(SAMPLES)
  .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
  .flatMap((file) => parseAllDocuments(fs.readFileSync(path.join(SAMPLES, file), 'utf8')).map((d) => ({ file, object: d.toJSON() })));
const subscriptions = documents.filter((d) => d.object.kind === 'Subscription').map((d) => ({ file: d.file, resource: d.object as SubscriptionResource }));

describe('k8s/samples', () => {
  it('has a Subscription for each selector kind, and the kustomization lists every file', () => {
    const kinds = new Set(subscriptions.map((s) => (s.resource.spec.selector as { type: string }).type));
    const nested = subscriptions.flatMap((s) => JSON.stringify(s.resource.spec.selector).match(/"type":"[a-z_]+"/g) ?? []);
    for (const kind of ['event_type', 'jsonpath', 'custom', 'all', 'any']) assert.ok(kinds.has(kind) || nested.includes(`"type":"${kind}"`), kind);
    const listed = (parseAllDocuments(fs.readFileSync(path.join(SAMPLES, 'kustomization.yaml'), 'utf8'))[0].toJSON() as { resources: string[] }).resources.sort();
    assert.deepEqual(listed, [...new Set(documents.map((d) => d.file))].sort());
  });

  it("passes the controller's checks (selector compiler, SSRF policy as in production) and references the sample Secret", () => {
    const secrets = new Set(documents.filter((d) => d.object.kind === 'Secret').map((d) => `${d.object.metadata.name}/${Object.keys(d.object.stringData)[0]}`));
    for (const { file, resource } of subscriptions) {
      const checked = desiredSubscription(resource.spec, { kind: 'none' });
      assert.equal(checked.ok, true, `${file}: ${JSON.stringify(checked)}`);
      const ref = resource.spec.signingSecretRef;
      assert.ok(ref && secrets.has(`${ref.name}/${ref.key}`), `${file} references the sample Secret`);
    }
  });

  describe('on the API server', function () {
    const kube = requireEngine(KUBERNETES);
    it('are accepted by the CRD schema (server-side dry run of the kustomization)', async function () {
      this.timeout(30_000);
      await installCrd(kube.address);
      const result = await kubectl(kube.address, ['apply', '--dry-run=server', '-k', SAMPLES]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.match(/created \(server dry run\)|configured \(server dry run\)|unchanged \(server dry run\)/g)?.length, documents.length, result.stdout);
    });
  });
});
