import assert from 'node:assert/strict';
import fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { systemClock } from '@triggers/core/domain';
import { createBackends, createLogger, generateSecretKeyText, loadConfig, parseSecretKey, topicNames } from '@triggers/core/runtime';
import { deleteDynamoDbTable, deleteSqsQueues } from '@triggers/core/testing';
import { DYNAMODB, POSTGRES, SQS, requireEngine } from '@triggers/testkit';
import { CHART_DIR, VALUES_FILES, helmTemplate, helmTemplateRaw, requireHelm, runTool, type KubeObject } from './lib/kube.ts';
import { containers, kinds, matchesSelector, named, ofKind, podTemplates, roleOf, routeOf } from './lib/objects.ts';
import { repoPath } from './lib/repo.ts';

/**
 * Issue 9, items 4 and 5: `helm lint --strict` and `helm template` of charts/triggers with its
 * default values and each documented values file, and what each mode must render.
 */

const DISTRIBUTED_ROLES = ['ingest', 'matcher', 'deliverer', 'inbox', 'controller'];
/** The release is named `triggers` in namespace `triggers`, so the chart's full name is `triggers`. */
const NAME = 'triggers';
const component = (name: string) => `${NAME}-${name}`;

/** The controller's rules from docs/operator.md's table ("RBAC the controller needs"). */
function documentedControllerRules(): { group: string; resource: string; verbs: string[] }[] {
  const text = fs.readFileSync(repoPath('docs/operator.md'), 'utf8');
  const section = text.slice(text.indexOf('## RBAC the controller needs'));
  return [...section.matchAll(/^\| `([^`]*)`[^|]*\| `([^`]+)` \| ([^|]+) \|/gm)].map((m) => ({
    group: m[1] === '""' ? '' : m[1],
    resource: m[2],
    verbs: [...m[3].matchAll(/`([a-z]+)`/g)].map((v) => v[1]).sort(),
  }));
}

function rulesFor(objects: KubeObject[], kind: 'ClusterRole' | 'Role', group: string, resource: string): string[] {
  return ofKind(objects, kind)
    .flatMap((r) => r.rules as any[])
    .filter((rule) => rule.apiGroups.includes(group) && rule.resources.includes(resource))
    .flatMap((rule) => rule.verbs as string[])
    .sort();
}

describe('chart: helm lint and helm template', function () {
  this.timeout(60_000);
  const helm = requireHelm();
  const rendered: Record<string, KubeObject[]> = {};

  before(() => {
    for (const [name, file] of Object.entries(VALUES_FILES)) rendered[name] = helmTemplate(helm.address, { values: file });
  });

  for (const [name, file] of Object.entries(VALUES_FILES)) {
    it(`helm lint --strict passes with ${name === 'default' ? 'the default values' : `examples/${name}.yaml`}`, () => {
      const args = ['lint', '--strict', CHART_DIR, ...(file ? ['--values', file] : [])];
      const result = runTool(helm.address, args);
      assert.equal(result.status, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    });
  }

  it('the chart ships the CRD of crds/ unchanged', () => {
    assert.equal(
      fs.readFileSync(repoPath('charts/triggers/crds/subscriptions.triggers.dev.yaml'), 'utf8'),
      fs.readFileSync(repoPath('crds/subscriptions.triggers.dev.yaml'), 'utf8'),
      'charts/triggers/crds/ is a copy of crds/subscriptions.triggers.dev.yaml: run npx tsx charts/sync.ts',
    );
  });

  it('default values and examples/embedded.yaml: one Deployment of role all, 1 replica, Recreate, SQLite on a PVC; no autoscalers', () => {
    for (const name of ['default', 'embedded']) {
      const objects = rendered[name];
      const deployments = ofKind(objects, 'Deployment');
      assert.equal(deployments.length, 1, name);
      const [deployment] = deployments;
      assert.equal(deployment.spec.replicas, 1);
      assert.equal(deployment.spec.strategy.type, 'Recreate');
      const [main, sidecar] = deployment.spec.template.spec.containers;
      assert.equal(roleOf(main), 'all');
      assert.equal(roleOf(sidecar), 'controller', 'the controller shares the pod (and its SQLite volume)');
      const pvc = named(objects, 'PersistentVolumeClaim', component('data'));
      const data = deployment.spec.template.spec.volumes.find((v: any) => v.name === 'data');
      assert.equal(data.persistentVolumeClaim.claimName, pvc.metadata.name);
      for (const c of [main, sidecar]) assert.ok(c.volumeMounts.some((m: any) => m.name === 'data' && m.mountPath === '/data'));
      const config = named(objects, 'ConfigMap', `${NAME}-config`).data;
      assert.equal(config.TRIGGERS_EVENT_STORE, 'sqlite');
      assert.equal(config.TRIGGERS_QUEUE, 'sqlite');
      assert.equal(config.TRIGGERS_DATA_DIR, '/data');
      for (const absent of ['ScaledObject', 'TriggerAuthentication', 'HorizontalPodAutoscaler', 'PodDisruptionBudget']) assert.ok(!kinds(objects).includes(absent), `${name}: no ${absent}`);
    }
  });

  it('distributed files: a Deployment, Service, ServiceAccount and PodDisruptionBudget per role, each running its role', () => {
    for (const name of ['aws-sqs-dynamodb', 'kafka-postgres']) {
      const objects = rendered[name];
      for (const role of DISTRIBUTED_ROLES) {
        const deployment = named(objects, 'Deployment', component(role));
        const [container] = deployment.spec.template.spec.containers;
        assert.equal(roleOf(container), role, `${name}: ${role}`);
        assert.equal(deployment.spec.template.spec.serviceAccountName, component(role));
        named(objects, 'ServiceAccount', component(role));
        const service = named(objects, 'Service', component(role));
        assert.ok(matchesSelector(deployment.spec.template.metadata.labels, service.spec.selector), `${role}: the Service selects its pods`);
        const pdb = named(objects, 'PodDisruptionBudget', component(role));
        assert.ok(matchesSelector(deployment.spec.template.metadata.labels, pdb.spec.selector.matchLabels));
      }
      assert.equal(ofKind(objects, 'Deployment').length, DISTRIBUTED_ROLES.length);
      assert.equal(ofKind(objects, 'PersistentVolumeClaim').length, 0, 'nothing on disk in distributed mode');
    }
  });

  it('ingest and inbox get autoscaling/v2 CPU HPAs; Deployments whose replicas an autoscaler owns leave replicas unset', () => {
    for (const name of ['aws-sqs-dynamodb', 'kafka-postgres']) {
      const objects = rendered[name];
      const hpas = ofKind(objects, 'HorizontalPodAutoscaler');
      assert.deepEqual(hpas.map((h) => h.spec.scaleTargetRef.name).sort(), [component('inbox'), component('ingest')]);
      for (const hpa of hpas) {
        assert.equal(hpa.apiVersion, 'autoscaling/v2');
        assert.equal(hpa.spec.metrics[0].resource.name, 'cpu');
        assert.ok(hpa.spec.minReplicas >= 2, 'at least two pods behind the ingress');
      }
      for (const role of ['ingest', 'inbox', 'matcher', 'deliverer']) assert.equal(named(objects, 'Deployment', component(role)).spec.replicas, undefined, role);
      assert.equal(named(objects, 'Deployment', component('controller')).spec.replicas, 2);
    }
  });

  it('SQS: KEDA ScaledObjects poll the adapter\'s queues (<prefix>-events, <prefix>-deliveries) with pod identity (provider aws)', () => {
    const objects = rendered['aws-sqs-dynamodb'];
    const values = parseYaml(fs.readFileSync(VALUES_FILES['aws-sqs-dynamodb']!, 'utf8'));
    const prefix = values.config.TRIGGERS_SQS_QUEUE_PREFIX;
    const base = `https://sqs.${values.config.TRIGGERS_AWS_REGION}.amazonaws.com/${values.aws.accountId}`;
    const auth = ofKind(objects, 'TriggerAuthentication');
    assert.equal(auth.length, 1);
    assert.equal(auth[0].spec.podIdentity.provider, 'aws');
    for (const [role, topic] of [['matcher', 'events'], ['deliverer', 'deliveries']]) {
      const scaled = named(objects, 'ScaledObject', component(role));
      assert.equal(scaled.spec.scaleTargetRef.name, component(role));
      const [trigger] = scaled.spec.triggers;
      assert.equal(trigger.type, 'aws-sqs-queue');
      assert.equal(trigger.metadata.queueURL, `${base}/${prefix}-${topic}`);
      assert.equal(trigger.metadata.awsRegion, values.config.TRIGGERS_AWS_REGION);
      assert.equal(trigger.authenticationRef.name, auth[0].metadata.name);
    }
    for (const sa of ofKind(objects, 'ServiceAccount')) assert.match(sa.metadata.annotations?.['eks.amazonaws.com/role-arn'] ?? '', /^arn:aws:iam::\d{12}:role\//, `IRSA on ${sa.metadata.name}`);
  });

  describe('SQS queue names against the real adapter', () => {
    const sqs = requireEngine(SQS);
    // The chart's AWS combination: config.ts refuses an SQS queue beside stores in the data folder.
    const postgres = requireEngine(POSTGRES);
    const dynamodb = requireEngine(DYNAMODB);

    it('the queues KEDA polls are the ones the SQS adapter creates for the same prefix', async function () {
      this.timeout(60_000);
      const prefix = `chart-keda-${Date.now().toString(36)}`;
      const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'triggers-chart-sqs-'));
      const config = loadConfig({
        TRIGGERS_QUEUE: 'sqs',
        TRIGGERS_SQS_ENDPOINT: sqs.address,
        TRIGGERS_SQS_QUEUE_PREFIX: prefix,
        TRIGGERS_EVENT_STORE: 'dynamodb',
        TRIGGERS_DYNAMODB_ENDPOINT: dynamodb.address,
        TRIGGERS_DYNAMODB_TABLE: prefix,
        TRIGGERS_METADATA_STORE: 'postgres',
        TRIGGERS_POSTGRES_URL: postgres.address,
        TRIGGERS_SECRET_KEY: generateSecretKeyText(),
        TRIGGERS_CACHE: 'redis',
        TRIGGERS_REDIS_URL: 'redis://127.0.0.1:1', // never opened: needs.cache is false
        TRIGGERS_DATA_DIR: dataDir,
      });
      const backends = await createBackends(config, { clock: systemClock, log: createLogger({ level: 'silent', service: 'chart-test' }), needs: { cache: false } });
      const client = new SQSClient({ endpoint: sqs.address, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
      try {
        const { QueueUrls = [] } = await client.send(new ListQueuesCommand({ QueueNamePrefix: prefix }));
        const created = QueueUrls.map((url) => url.split('/').pop()!).sort();
        const objects = helmTemplate(helm.address, { values: VALUES_FILES['aws-sqs-dynamodb'], set: [`config.TRIGGERS_SQS_QUEUE_PREFIX=${prefix}`] });
        const polled = ofKind(objects, 'ScaledObject').map((o) => o.spec.triggers[0].metadata.queueURL.split('/').pop()).sort();
        assert.deepEqual(polled, created.filter((name) => !name.endsWith('-dlq')), `created: ${created.join(', ')}`);
        assert.equal(polled.length, 2);
      } finally {
        client.destroy();
        await backends.close();
        await deleteSqsQueues(sqs.address, prefix);
        await deleteDynamoDbTable(dynamodb.address, prefix);
        await fsp.rm(dataDir, { recursive: true, force: true });
      }
    });
  });

  it('Kafka: KEDA ScaledObjects on the consumer lag of the adapter\'s topics and groups (kafka/topology.ts)', () => {
    const objects = rendered['kafka-postgres'];
    const values = parseYaml(fs.readFileSync(VALUES_FILES['kafka-postgres']!, 'utf8'));
    assert.equal(ofKind(objects, 'TriggerAuthentication').length, 0, 'the Kafka adapter connects without credentials, so does the trigger');
    for (const [role, topic] of [['matcher', 'events'], ['deliverer', 'deliveries']] as const) {
      const names = topicNames(values.config.TRIGGERS_KAFKA_TOPIC_PREFIX, topic);
      const [trigger] = named(objects, 'ScaledObject', component(role)).spec.triggers;
      assert.equal(trigger.type, 'kafka');
      assert.equal(trigger.metadata.topic, names.main);
      assert.equal(trigger.metadata.consumerGroup, names.group);
      assert.equal(trigger.metadata.bootstrapServers, values.config.TRIGGERS_KAFKA_BROKERS);
    }
  });

  it('the ALB Ingress sends POST /api/v1/events[/batch] to ingest and everything else (GET /api/v1/events/{id} too) to inbox', () => {
    for (const name of ['aws-sqs-dynamodb', 'kafka-postgres']) {
      const objects = rendered[name];
      const [ingress] = ofKind(objects, 'Ingress');
      assert.equal(ingress.apiVersion, 'networking.k8s.io/v1');
      assert.equal(ingress.spec.ingressClassName, 'alb');
      assert.ok(Object.keys(ingress.metadata.annotations ?? {}).some((k) => k.startsWith('alb.ingress.kubernetes.io/')), 'ALB annotations from values');
      const routes: [string, string][] = [
        ['/api/v1/events', 'ingest'],
        ['/api/v1/events/batch', 'ingest'],
        ['/api/v1/events/0190f3c2-7d1e-7b5a-9c3d-2e4f5a6b7c8d', 'inbox'],
        ['/api/v1/events/0190f3c2-7d1e-7b5a-9c3d-2e4f5a6b7c8d/replay', 'inbox'],
        ['/api/v1/inbox', 'inbox'],
        ['/api/v1/subscriptions', 'inbox'],
        ['/admin/test-customer', 'inbox'],
        ['/openapi.json', 'inbox'],
        ['/', 'inbox'],
      ];
      for (const [path, role] of routes) assert.equal(routeOf(ingress, path), component(role), `${name}: ${path}`);
      for (const p of ingress.spec.rules.flatMap((r: any) => r.http.paths)) {
        const service = named(objects, 'Service', p.backend.service.name);
        assert.ok(service.spec.ports.some((port: any) => port.name === p.backend.service.port.name));
      }
    }
    const embedded = helmTemplate(helm.address, { values: VALUES_FILES.embedded, set: ['ingress.enabled=true'] });
    assert.equal(routeOf(ofKind(embedded, 'Ingress')[0], '/api/v1/events/batch'), component('embedded'));
  });

  it('every container: non-root, read-only root filesystem, no privilege escalation, ALL capabilities dropped, seccomp RuntimeDefault, /tmp an emptyDir', () => {
    for (const [name, objects] of Object.entries(rendered)) {
      for (const { owner, pod, container } of containers(objects)) {
        const where = `${name}: ${owner.metadata.name}/${container.name}`;
        const sc = container.securityContext;
        assert.equal(sc.runAsNonRoot, true, where);
        assert.ok(sc.runAsUser > 0, where);
        assert.equal(sc.readOnlyRootFilesystem, true, where);
        assert.equal(sc.allowPrivilegeEscalation, false, where);
        assert.deepEqual(sc.capabilities.drop, ['ALL'], where);
        assert.equal((sc.seccompProfile ?? pod.securityContext.seccompProfile).type, 'RuntimeDefault', where);
        const tmp = container.volumeMounts.find((m: any) => m.mountPath === '/tmp');
        assert.ok(tmp && pod.volumes.find((v: any) => v.name === tmp.name).emptyDir, `${where}: /tmp is an emptyDir`);
        assert.equal(pod.securityContext.runAsNonRoot, true, where);
      }
    }
  });

  it('every container: liveness and startup on /health, readiness on /ready, on its own port (the embedded controller sidecar: no readiness)', () => {
    const opsPaths = fs.readFileSync(repoPath('packages/core/src/http/ops-routes.ts'), 'utf8');
    assert.match(opsPaths, /path: '\/health'/);
    assert.match(opsPaths, /path: '\/ready'/);
    for (const [name, objects] of Object.entries(rendered)) {
      for (const { owner, container } of containers(objects)) {
        const where = `${name}: ${owner.metadata.name}/${container.name}`;
        const port = container.ports[0].name;
        assert.deepEqual(container.livenessProbe.httpGet, { path: '/health', port }, where);
        assert.deepEqual(container.startupProbe.httpGet, { path: '/health', port }, where);
        const env = Object.fromEntries((container.env ?? []).map((e: any) => [e.name, e.value]));
        const configPort = named(objects, 'ConfigMap', `${NAME}-config`).data.PORT;
        assert.equal(String(container.ports[0].containerPort), env.PORT ?? configPort, `${where}: the probed port is the one the process listens on`);
        const sidecar = owner.metadata.name === component('embedded') && container.name === 'controller';
        if (sidecar) assert.equal(container.readinessProbe, undefined, where);
        else assert.deepEqual(container.readinessProbe.httpGet, { path: '/ready', port }, where);
      }
    }
  });

  it('the HTTP containers behind the ALB (ingest, inbox, embedded) wait before SIGTERM; the queue consumers stop at once', () => {
    for (const [name, objects] of Object.entries(rendered)) {
      for (const { owner, container } of containers(objects)) {
        const http = ['ingest', 'inbox', 'all'].includes(roleOf(container));
        assert.deepEqual(container.lifecycle?.preStop?.exec?.command, http ? ['sleep', '10'] : undefined, `${name}: ${owner.metadata.name}/${container.name}`);
      }
    }
  });

  it('every pod spreads over zones and nodes, with a selector that matches its own labels', () => {
    for (const [name, objects] of Object.entries(rendered)) {
      for (const { owner, spec, labels } of podTemplates(objects)) {
        const keys = spec.topologySpreadConstraints.map((t: any) => t.topologyKey).sort();
        assert.deepEqual(keys, ['kubernetes.io/hostname', 'topology.kubernetes.io/zone'], `${name}: ${owner.metadata.name}`);
        for (const t of spec.topologySpreadConstraints) assert.ok(matchesSelector(labels, t.labelSelector.matchLabels));
      }
    }
  });

  it('RBAC: the controller gets exactly the rules docs/operator.md lists; no other workload mounts a token', () => {
    const documented = documentedControllerRules();
    assert.ok(documented.length >= 6, `parsed ${documented.length} rows from docs/operator.md`);
    for (const [name, objects] of Object.entries(rendered)) {
      for (const row of documented) {
        const kind = row.resource === 'leases' ? 'Role' : 'ClusterRole';
        assert.deepEqual(rulesFor(objects, kind, row.group, row.resource), row.verbs, `${name}: ${row.group}/${row.resource}`);
      }
      const everyRule = [...ofKind(objects, 'ClusterRole'), ...ofKind(objects, 'Role')].flatMap((r) => r.rules as any[]);
      assert.equal(everyRule.filter((rule) => !documented.some((row) => rule.apiGroups.includes(row.group) && rule.resources.includes(row.resource))).length, 0, 'nothing beyond the table');
      const lease = ofKind(objects, 'Role').find((r) => r.rules.some((rule: any) => rule.resources.includes('leases')))!;
      assert.equal(lease.metadata.namespace, 'triggers', 'the Lease Role lives in the release namespace');
      for (const { owner, spec: pod } of podTemplates(objects)) {
        const bindings = [...ofKind(objects, 'ClusterRoleBinding'), ...ofKind(objects, 'RoleBinding')];
        const isController = bindings.some((b) => b.subjects.some((s: any) => s.name === pod.serviceAccountName));
        assert.equal(pod.automountServiceAccountToken, isController, `${name}: ${owner.metadata.name}`);
      }
      for (const sa of ofKind(objects, 'ServiceAccount')) assert.equal(sa.automountServiceAccountToken, false);
    }
  });

  it('RBAC with TRIGGERS_CONTROLLER_NAMESPACES: a Role and RoleBinding in each listed namespace, no ClusterRole', () => {
    const objects = helmTemplate(helm.address, { values: VALUES_FILES['kafka-postgres'], set: ['config.TRIGGERS_CONTROLLER_NAMESPACES=shop\\,billing'] });
    assert.equal(ofKind(objects, 'ClusterRole').length, 0);
    const roles = ofKind(objects, 'Role').filter((r) => r.rules.some((rule: any) => rule.resources.includes('subscriptions')));
    assert.deepEqual(roles.map((r) => r.metadata.namespace).sort(), ['billing', 'shop']);
    const bindings = ofKind(objects, 'RoleBinding').filter((b) => b.roleRef.name === roles[0].metadata.name);
    assert.deepEqual(bindings.map((b) => b.metadata.namespace).sort(), ['billing', 'shop']);
    assert.equal(named(objects, 'ConfigMap', `${NAME}-config`).data.TRIGGERS_CONTROLLER_NAMESPACES, 'shop,billing');
  });

  it('the controller holds its Lease in the release namespace unless TRIGGERS_CONTROLLER_LEASE_NAMESPACE says otherwise', () => {
    const [container] = named(rendered['kafka-postgres'], 'Deployment', component('controller')).spec.template.spec.containers;
    assert.deepEqual(container.env, [{ name: 'TRIGGERS_CONTROLLER_LEASE_NAMESPACE', value: 'triggers' }]);
  });

  it('settings reach the pods from a ConfigMap and a Secret (or existingSecret); a change rolls the pods', () => {
    const kafka = rendered['kafka-postgres'];
    const secret = named(kafka, 'Secret', `${NAME}-secrets`);
    assert.deepEqual(Object.keys(secret.stringData).sort(), ['TRIGGERS_ADMIN_TOKEN', 'TRIGGERS_POSTGRES_URL', 'TRIGGERS_REDIS_URL']);
    assert.equal(named(kafka, 'ConfigMap', `${NAME}-config`).data.TRIGGERS_POSTGRES_URL, undefined, 'no secret in the ConfigMap');
    for (const { container } of containers(kafka)) {
      assert.deepEqual(container.envFrom.map((e: any) => (e.configMapRef ?? e.secretRef).name), [`${NAME}-config`, `${NAME}-secrets`, `${NAME}-secret-key`]);
    }
    const aws = rendered['aws-sqs-dynamodb'];
    assert.equal(ofKind(aws, 'Secret').length, 0, 'existingSecret: the chart renders none');
    for (const { container } of containers(aws)) assert.ok(container.envFrom.some((e: any) => e.secretRef?.name === 'triggers-secrets'));
    const checksum = (objects: KubeObject[]) => named(objects, 'Deployment', component('ingest')).spec.template.metadata.annotations['checksum/config'];
    const changed = helmTemplate(helm.address, { values: VALUES_FILES['kafka-postgres'], set: ['config.TRIGGERS_MAX_ATTEMPTS=7'] });
    assert.notEqual(checksum(changed), checksum(kafka));
  });

  it('TRIGGERS_SECRET_KEY (webhook secrets at rest): drawn once into a kept Secret every distributed pod reads, or taken from the values', () => {
    const kafka = rendered['kafka-postgres'];
    const generated = named(kafka, 'Secret', `${NAME}-secret-key`);
    assert.equal(generated.metadata.annotations?.['helm.sh/resource-policy'], 'keep', 'uninstall keeps the key');
    const key = Buffer.from(generated.data.TRIGGERS_SECRET_KEY, 'base64').toString('utf8');
    assert.equal(parseSecretKey(key).key.length, 32, 'the pods read a key TRIGGERS_SECRET_KEY accepts');
    assert.equal(Object.keys(generated.data).length, 1);
    for (const { container } of containers(kafka)) assert.ok(container.envFrom.some((e: any) => e.secretRef?.name === `${NAME}-secret-key`));
    // Not part of the pods' checksum: another render (another random key before install) does not roll them.
    const checksum = (objects: KubeObject[]) => named(objects, 'Deployment', component('ingest')).spec.template.metadata.annotations['checksum/secret'];
    assert.equal(checksum(helmTemplate(helm.address, { values: VALUES_FILES['kafka-postgres'] })), checksum(kafka));

    const own = generateSecretKeyText();
    const given = helmTemplate(helm.address, { values: VALUES_FILES['kafka-postgres'], set: [`secretConfig.TRIGGERS_SECRET_KEY=${own}`] });
    assert.equal(ofKind(given, 'Secret').filter((o) => o.metadata.name === `${NAME}-secret-key`).length, 0, 'a key in the values: nothing drawn');
    assert.equal(named(given, 'Secret', `${NAME}-secrets`).stringData.TRIGGERS_SECRET_KEY, own);
    assert.equal(ofKind(rendered['aws-sqs-dynamodb'], 'Secret').length, 0, 'existingSecret holds it: nothing drawn');
    for (const name of ['default', 'embedded']) assert.equal(ofKind(rendered[name], 'Secret').filter((o) => o.metadata.name === `${NAME}-secret-key`).length, 0, `${name}: the data folder keeps it`);

    const refused = helmTemplateRaw(helm.address, { values: VALUES_FILES['kafka-postgres'], set: ['secretKey.generate=false'] });
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /secretConfig.TRIGGERS_SECRET_KEY/);
  });

  it('refuses combinations that cannot work, naming the setting', () => {
    const cases: [string[], RegExp][] = [
      [['mode=distributed'], /TRIGGERS_METADATA_STORE=postgres/],
      [['mode=distributed', 'config.TRIGGERS_METADATA_STORE=postgres', 'config.TRIGGERS_EVENT_STORE=postgres', 'config.TRIGGERS_QUEUE=sqlite', 'config.TRIGGERS_CACHE=redis'], /TRIGGERS_QUEUE=sqs or kafka/],
      [['mode=distributed', 'config.TRIGGERS_METADATA_STORE=postgres', 'config.TRIGGERS_EVENT_STORE=postgres', 'config.TRIGGERS_QUEUE=kafka', 'config.TRIGGERS_CACHE=redis'], /TRIGGERS_POSTGRES_URL/],
    ];
    for (const [set, message] of cases) {
      const result = helmTemplateRaw(helm.address, { set });
      assert.notEqual(result.status, 0, set.join(' '));
      assert.match(result.stderr, message);
    }
    const noBrokers = helmTemplateRaw(helm.address, { values: VALUES_FILES['kafka-postgres'], set: ['config.TRIGGERS_KAFKA_BROKERS='] });
    assert.match(noBrokers.stderr, /TRIGGERS_KAFKA_BROKERS/);
  });

  it('ServiceMonitor and PrometheusRule are toggles; the ServiceMonitor scrapes /metrics of every Service', () => {
    assert.ok(!kinds(rendered.default).includes('ServiceMonitor'));
    assert.ok(!kinds(rendered.default).includes('PrometheusRule'));
    for (const name of ['aws-sqs-dynamodb', 'kafka-postgres']) {
      const objects = rendered[name];
      const [monitor] = ofKind(objects, 'ServiceMonitor');
      for (const service of ofKind(objects, 'Service')) assert.ok(matchesSelector(service.metadata.labels!, monitor.spec.selector.matchLabels), service.metadata.name);
      assert.ok(monitor.spec.endpoints.every((e: any) => e.path === '/metrics' && e.port === 'http'));
      const [rule] = ofKind(objects, 'PrometheusRule');
      const expressions = rule.spec.groups.flatMap((g: any) => g.rules.map((r: any) => r.expr)).join('\n');
      for (const metric of expressions.match(/triggers_[a-z_]+/g) ?? []) {
        const base = metric.replace(/_(count|sum|bucket)$/, '');
        const defined = runTool('grep', ['-rl', `'${base}'`, repoPath('services'), repoPath('packages/core/src')]);
        assert.equal(defined.status, 0, `${metric} is a metric the services export`);
      }
    }
  });
});
