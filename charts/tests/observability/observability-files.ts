import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { repoPath } from '../lib/repo.ts';

export const DASHBOARDS_DIR = repoPath('charts/triggers/dashboards');
export const RULES_FILE = repoPath('charts/triggers/rules/triggers.rules.yaml');
export const RULE_TESTS_DIR = repoPath('charts/triggers/rules/tests');

export interface Dashboard {
  file: string;
  json: any;
}

/** A PromQL expression of a dashboard: a panel target or a template variable's `label_values(...)`. */
export interface DashboardQuery {
  where: string;
  expr: string;
}

export function readDashboards(): Dashboard[] {
  return fs
    .readdirSync(DASHBOARDS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, json: JSON.parse(fs.readFileSync(path.join(DASHBOARDS_DIR, file), 'utf8')) }));
}

export function panelsOf(dashboard: any): any[] {
  return (dashboard.panels ?? []).flatMap((p: any) => [p, ...(p.panels ?? [])]).filter((p: any) => p.type !== 'row');
}

/** Every expression of a dashboard; template queries `label_values(expr, label)` give their `expr`. */
export function queriesOf(dashboard: Dashboard): DashboardQuery[] {
  const queries: DashboardQuery[] = [];
  for (const panel of panelsOf(dashboard.json)) {
    for (const target of panel.targets ?? []) queries.push({ where: `${dashboard.file} › ${panel.title} › ${target.refId}`, expr: target.expr });
  }
  for (const variable of dashboard.json.templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
    const labelValues = /^label_values\((.*),\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)$/.exec(query ?? '');
    if (!labelValues) throw new Error(`${dashboard.file}: variable ${variable.name} is not label_values(expr, label): ${query}`);
    queries.push({ where: `${dashboard.file} › variable ${variable.name}`, expr: labelValues[1] });
  }
  return queries;
}

/**
 * What Grafana sends for the dashboards' variables: `$__rate_interval` (at least four scrape
 * intervals), and "All" (`.+`) for the multi-value variables.
 */
export function asPrometheusQuery(expr: string, rateInterval = '1m'): string {
  return expr.replaceAll('$__rate_interval', rateInterval).replace(/\$\{?([a-z_]+)\}?/g, '.+');
}

export interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function readRules(): { groups: { name: string; rules: Rule[] }[] } {
  return parseYaml(fs.readFileSync(RULES_FILE, 'utf8'));
}

export function ruleTestFiles(): string[] {
  return fs.readdirSync(RULE_TESTS_DIR).filter((f) => f.endsWith('.test.yaml')).sort().map((f) => path.join(RULE_TESTS_DIR, f));
}
