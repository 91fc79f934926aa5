import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { helmTemplate, requireHelm } from '../lib/kube.ts';
import { ofKind } from '../lib/objects.ts';
import { repoPath } from '../lib/repo.ts';
import { metricNames } from './promql.ts';
import { asPrometheusQuery, panelsOf, queriesOf, readDashboards, readRules, ruleTestFiles, RULES_FILE } from './observability-files.ts';
import { promtool, requirePromtool } from './tools.ts';

/**
 * Issue 12, items 4 and 5, without a running service: the dashboards' shape and PromQL, how the
 * chart ships them and the rules, and the rules' promtool checks and unit tests. What the
 * expressions read is checked against a running all-in-one in metrics-live.test.ts.
 */

const dashboards = readDashboards();
const rules = readRules();
const alerts = rules.groups.flatMap((g) => g.rules).filter((r) => r.alert);

describe('Grafana dashboards (charts/triggers/dashboards)', () => {
  it('are overview, per service and delivery by origin, each with a unique uid and a data-source variable', () => {
    assert.deepEqual(dashboards.map((d) => d.file), ['delivery-by-origin.json', 'overview.json', 'service.json']);
    assert.equal(new Set(dashboards.map((d) => d.json.uid)).size, dashboards.length);
    for (const { file, json } of dashboards) {
      assert.ok(json.title && json.uid, file);
      assert.ok(json.templating.list.some((v: any) => v.type === 'datasource' && v.name === 'datasource' && v.query === 'prometheus'), file);
    }
  });

  it('every panel says what it shows and queries the selected Prometheus', () => {
    for (const { file, json } of dashboards) {
      const ids = new Set<number>();
      for (const panel of panelsOf(json)) {
        assert.ok(panel.description, `${file} › ${panel.title}: a description`);
        assert.ok(panel.targets?.length > 0, `${file} › ${panel.title}: a query`);
        assert.ok(!ids.has(panel.id), `${file}: panel id ${panel.id} is unique`);
        ids.add(panel.id);
        for (const target of panel.targets) {
          assert.equal(target.datasource.uid, '${datasource}', `${file} › ${panel.title}`);
          assert.ok(metricNames(target.expr).length > 0, `${file} › ${panel.title}: ${target.expr} reads a metric`);
        }
      }
    }
  });

  it('the overview has the panels the issue lists', () => {
    const overview = dashboards.find((d) => d.file === 'overview.json')!;
    const families = new Set(queriesOf(overview).flatMap((q) => metricNames(q.expr)));
    for (const needed of [
      'triggers_events_accepted_total', // ingest rate
      'triggers_http_request_duration_seconds_count', // ingest errors
      'triggers_http_request_duration_seconds_bucket', // 202 latency
      'triggers_delivery_latency_seconds_bucket', // e2e latency
      'triggers_delivery_attempts_total', // success rate by outcome
      'triggers_queue_messages', // depth / lag per queue
      'triggers_queue_dead_letter_messages', // DLQ size
      'triggers_circuits_open', // breaker states
      'triggers_circuit_transitions_total',
      'triggers_ingest_rate_limited_total', // rate-limit refusals
    ]) {
      assert.ok(families.has(needed), `overview reads ${needed}`);
    }
    const titles = panelsOf(overview.json).map((p) => p.title).join('\n');
    assert.match(titles, /p50 \/ p95 \/ p99[\s\S]*p50 \/ p95 \/ p99/, '202 and end-to-end percentiles');
  });

  it('the per-service dashboard has RED, event-loop lag and memory per selected service', () => {
    const service = dashboards.find((d) => d.file === 'service.json')!;
    const families = new Set(queriesOf(service).flatMap((q) => metricNames(q.expr)));
    for (const needed of ['triggers_http_request_duration_seconds_count', 'triggers_http_request_duration_seconds_bucket', 'nodejs_eventloop_lag_p99_seconds', 'process_resident_memory_bytes']) {
      assert.ok(families.has(needed), `service dashboard reads ${needed}`);
    }
    for (const panel of panelsOf(service.json)) for (const t of panel.targets) assert.match(t.expr, /job=~"\$job"/, `${panel.title} filters by the selected services`);
  });

  it('the delivery-by-origin dashboard reads the origin-labelled attempt histogram', () => {
    const origin = dashboards.find((d) => d.file === 'delivery-by-origin.json')!;
    const perOrigin = queriesOf(origin).filter((q) => /by \(origin/.test(q.expr));
    assert.ok(perOrigin.length >= 5);
    assert.ok(perOrigin.every((q) => metricNames(q.expr).every((m) => m.startsWith('triggers_delivery_attempt_duration_seconds'))));
  });

  describe('with promtool', () => {
    const tool = requirePromtool();

    it('every expression is valid PromQL (promtool checks each as a recording rule)', function () {
      const queries = dashboards.flatMap(queriesOf);
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'triggers-dashboards-')), 'expressions.yaml');
      try {
        const recording = { groups: [{ name: 'dashboards', rules: queries.map((q, i) => ({ record: `dashboard:expression_${i}`, expr: asPrometheusQuery(q.expr) })) }] };
        fs.writeFileSync(file, stringify(recording));
        const result = promtool(tool.address, ['check', 'rules', file]);
        assert.equal(result.status, 0, result.output);
        assert.match(result.output, new RegExp(`SUCCESS: ${queries.length} rules found`));
      } finally {
        fs.rmSync(path.dirname(file), { recursive: true, force: true });
      }
    });
  });
});

describe('Alert rules (charts/triggers/rules)', () => {
  it('hold the seed\'s alarms, each with a severity, a summary and a runbook section in docs/operations.md', () => {
    assert.deepEqual(
      alerts.map((a) => a.alert),
      ['TriggersHighErrorRate', 'TriggersIngestSlow', 'TriggersDeliverySlow', 'TriggersQueueBacklogGrowing', 'TriggersDeadLettersGrowing', 'TriggersManyCircuitsOpen', 'TriggersDeliveriesFailing'],
    );
    const operations = fs.readFileSync(repoPath('docs/operations.md'), 'utf8');
    for (const alert of alerts) {
      assert.match(alert.labels?.severity ?? '', /^(critical|warning|info)$/, alert.alert);
      assert.ok(alert.annotations?.summary, alert.alert);
      assert.equal(alert.annotations?.runbook, `docs/operations.md#${alert.alert!.toLowerCase()}`);
      assert.match(operations, new RegExp(`^### ${alert.alert}$`, 'm'), `docs/operations.md has a "### ${alert.alert}" runbook`);
    }
  });

  describe('in the chart', () => {
    const helm = requireHelm();

    it('the PrometheusRule ships the rules file\'s groups unchanged, when enabled', () => {
      const objects = helmTemplate(helm.address, { set: ['prometheusRule.enabled=true'] });
      const [rule] = ofKind(objects, 'PrometheusRule');
      assert.deepEqual(rule.spec, rules);
      assert.equal(ofKind(helmTemplate(helm.address), 'PrometheusRule').length, 0, 'off by default');
    });

    it('each dashboard is a ConfigMap labelled grafana_dashboard: "1" holding its JSON verbatim; the toggle removes them', () => {
      const objects = helmTemplate(helm.address, { set: ['grafanaDashboards.annotations.grafana_folder=Triggers'] });
      const maps = ofKind(objects, 'ConfigMap').filter((m) => m.metadata.labels?.grafana_dashboard === '1');
      assert.equal(maps.length, dashboards.length);
      for (const { file } of dashboards) {
        const map = maps.find((m) => Object.keys(m.data).includes(`triggers-${file}`));
        assert.ok(map, `a ConfigMap holds ${file}`);
        assert.equal(map.data[`triggers-${file}`], fs.readFileSync(repoPath('charts/triggers/dashboards', file), 'utf8').trimEnd());
        assert.equal(map.metadata.annotations?.grafana_folder, 'Triggers');
        assert.ok(Buffer.byteLength(JSON.stringify(map)) < 1024 * 1024, 'under the 1 MiB ConfigMap limit');
      }
      const off = helmTemplate(helm.address, { set: ['grafanaDashboards.enabled=false'] });
      assert.equal(ofKind(off, 'ConfigMap').filter((m) => m.metadata.labels?.grafana_dashboard).length, 0);
    });
  });

  describe('with promtool', () => {
    const tool = requirePromtool();
    let scratch: string;
    before(() => {
      scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'triggers-rules-'));
    });
    // The suite may be skipped (no promtool) before `scratch` exists.
    after(() => scratch && fs.rmSync(scratch, { recursive: true, force: true }));

    it('promtool check rules passes', () => {
      const result = promtool(tool.address, ['check', 'rules', RULES_FILE]);
      assert.equal(result.status, 0, result.output);
      assert.match(result.output, new RegExp(`SUCCESS: ${rules.groups.flatMap((g) => g.rules).length} rules found`));
    });

    for (const file of ruleTestFiles()) {
      it(`promtool test rules ${path.basename(file)} passes`, () => {
        const result = promtool(tool.address, ['test', 'rules', file]);
        assert.equal(result.status, 0, result.output);
      });
    }

    /** The alert's unit-test file, run against a copy of the rules with the alert's expression replaced. */
    function testWithExpression(alert: string, expr: string): { status: number | null; output: string } {
      const changed = { groups: rules.groups.map((g) => ({ ...g, rules: g.rules.map((r) => (r.alert === alert ? { ...r, expr } : r)) })) };
      const rulesCopy = path.join(scratch, 'triggers.rules.yaml');
      fs.writeFileSync(rulesCopy, stringify(changed));
      const testFile = ruleTestFiles().find((f) => fs.readFileSync(f, 'utf8').includes(`alertname: ${alert}`))!;
      const test = parseYaml(fs.readFileSync(testFile, 'utf8'));
      const testCopy = path.join(scratch, path.basename(testFile));
      fs.writeFileSync(testCopy, stringify({ ...test, rule_files: [rulesCopy] }));
      return promtool(tool.address, ['test', 'rules', testCopy]);
    }

    for (const alert of alerts.map((a) => a.alert!)) {
      it(`${alert}: its unit test checks both that it fires and that it stays quiet`, () => {
        assert.ok(ruleTestFiles().some((f) => fs.readFileSync(f, 'utf8').includes(`alertname: ${alert}`)), `a test file for ${alert}`);
        const never = testWithExpression(alert, 'vector(1) > 2');
        assert.notEqual(never.status, 0, `a rule that never fires fails the test:\n${never.output}`);
        const always = testWithExpression(alert, 'vector(1)');
        assert.notEqual(always.status, 0, `a rule that always fires fails the test:\n${always.output}`);
      });
    }
  });
});
