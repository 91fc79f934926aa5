/**
 * `taskset -c 0 npx tsx bench/async-hooks-ingest-cost.ts [pairs] [seconds]`: what Node 20's
 * AsyncLocalStorage hooks cost a traced all-in-one per single-event ingest request
 * (docs/benchmarks.md, tracing's cost, fifth pass). Before that pass, the first `context.with` of a
 * traced process (any API route but the two ingest routes, or the deliverer) turned async hooks on
 * for every promise of the process from then on; now nothing calls it.
 *
 * One process, so the machine's load weighs on both alike: the embedded all-in-one with tracing on
 * (default exporter, every span exported to a sink in a child process), loaded by wrk (on CPU 1
 * with --pin's layout: run this on CPU 0) with single events for `seconds`, in blocks alternating
 * - `hooks off`: the context manager's AsyncLocalStorage disabled (as in a process that never
 *   called `context.with`: what the services do now);
 * - `hooks on`: one `context.with` made first (what an admin request or a delivery used to do).
 * Server CPU (`process.cpuUsage` of this process: the server, its exporter and this loop) per
 * accepted event, each block, pairs in alternating order; the first pair is a warm-up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT_CONTEXT, context } from '@opentelemetry/api';
import { loadConfig, startTracing, stopTracing } from '@triggers/core/runtime';
import { startAllInOne } from '../services/all-in-one/src/server.ts';
import { startOtlpSinkProcess } from './lib/otlp-sink.ts';
import { runWrk } from './lib/wrk.ts';
import { singleEventBodies } from './lib/payloads.ts';
import { apiHeaders } from './lib/measure.ts';

const PAIRS = Number(process.argv[2] ?? 4);
const SECONDS = Number(process.argv[3] ?? 4);
const ADMIN_TOKEN = 'bench-admin-token-0123456789';

const sink = await startOtlpSinkProcess();
// The SDK and the exporter read process.env themselves.
const env = Object.assign(process.env, { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_SERVICE_NAME: 'async-hooks-ingest-cost' });
if (!(await startTracing({ serviceName: 'async-hooks-ingest-cost', env }))) throw new Error('tracing did not start');
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'triggers-hooks-cost-'));
const server = await startAllInOne(
  loadConfig({
    PORT: '0',
    TRIGGERS_HOST: '127.0.0.1',
    TRIGGERS_DATA_DIR: dataDir,
    TRIGGERS_ADMIN_TOKEN: ADMIN_TOKEN,
    TRIGGERS_LOG_LEVEL: 'warn',
    TRIGGERS_RATE_LIMIT_PER_SECOND: '10000000',
  }),
);
const admin = (method: string, urlPath: string, body: unknown) =>
  fetch(server.url + urlPath, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json() as Promise<Record<string, string>>);
const customer = await admin('POST', '/admin/test-customer', { name: 'hooks cost', email: 'hooks@bench.test' });
await admin('PATCH', `/admin/customers/${customer.customer_id}`, { rate_limit_per_second: 10_000_000 });

type Manager = { with: (...args: unknown[]) => unknown; disable(): unknown };
const manager = (context as unknown as { _getContextManager(): Manager })._getContextManager();
const bodies = singleEventBodies(64);
const headers = apiHeaders(customer.api_key);
const results: Record<'hooks off' | 'hooks on', number[]> = { 'hooks off': [], 'hooks on': [] };
for (let pair = 0; pair <= PAIRS; pair++) {
  // Each pair in the other order than the one before, so a drift of the load weighs on both alike.
  for (const mode of pair % 2 === 0 ? (['hooks off', 'hooks on'] as const) : (['hooks on', 'hooks off'] as const)) {
    if (mode === 'hooks on') context.with(ROOT_CONTEXT, () => undefined);
    else manager.disable(); // AsyncLocalStorage.disable: Node turns the hooks off when no store is enabled
    const start = process.cpuUsage();
    const run = await runWrk({
      origin: server.url,
      connections: 64,
      durationMs: SECONDS * 1000,
      variants: bodies.length,
      threads: 1,
      cpus: '1',
      request: (i) => ({ method: 'POST', path: '/api/v1/events', headers, body: bodies[i % bodies.length] }),
    });
    const used = process.cpuUsage(start);
    const perEvent = (used.user + used.system) / run.ok;
    if (pair > 0) results[mode].push(perEvent);
    process.stdout.write(`${pair === 0 ? 'warm-up ' : ''}${mode}: ${run.ok} events (${run.errors} errors), ${perEvent.toFixed(1)} µs CPU/event\n`);
  }
}
await server.close();
await stopTracing();
sink.kill();
rmSync(dataDir, { recursive: true, force: true });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const off = median(results['hooks off']);
const on = median(results['hooks on']);
process.stdout.write(
  `traced all-in-one, server CPU per single-event ingest (µs, median of ${PAIRS} blocks of ${SECONDS} s each, export included):\n` +
    `  hooks off (no context.with, now): ${off.toFixed(1)}  (blocks: ${results['hooks off'].map((x) => x.toFixed(1)).join(', ')})\n` +
    `  hooks on (after one context.with, before): ${on.toFixed(1)}  (blocks: ${results['hooks on'].map((x) => x.toFixed(1)).join(', ')})\n` +
    `  difference: ${(on - off).toFixed(1)} µs per event (${(((on - off) / off) * 100).toFixed(1)} % of hooks off)\n`,
);
