/**
 * `npm run bench [-- flags]`: load tests of the Triggers API against its targets.
 *
 * Every measurement starts its own server in a child process (the all-in-one, embedded SQLite,
 * fresh data folder, 127.0.0.1, a free port), creates a customer through the admin API, warms up,
 * then drives it from this process with an undici Pool (64 connections, pipelining 1) for a fixed
 * time. Results are printed as tables and written to bench/results/latest.json.
 * Run with --help for the flags.
 */
import { closeSync, fdatasyncSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, killAllChildrenSync, liveChildren, processCpuSeconds, spawnChild, waitForHealth, type Child } from './lib/children.ts';
import { round, runLoad, runSequential, type LoadResult, type RequestSpec } from './lib/load.ts';
import { batchBodies, batchBody, FILTER_EVENT_TYPE, singleEventBodies } from './lib/payloads.ts';
import { fmtInt, fmtMs, summarize, type LatencySummary } from './lib/stats.ts';
import { formatProfileSummary, summarizeProfile, type ProfileSummary } from './lib/cpuprofile.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS_DIR = path.join(ROOT, 'bench', 'results');
const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
const ALL_SCENARIOS = ['ingest', 'batch', 'bare', 'inbox'] as const;
type Scenario = (typeof ALL_SCENARIOS)[number];
const MAX_BATCH = 500;

const HELP = `Usage: npm run bench -- [flags]

  --duration S          measured seconds per load scenario (default 10)
  --warmup S            warm-up seconds before each measurement, not counted (default 2)
  --connections N       concurrent connections (default 64)
  --scenarios LIST      comma-separated subset of ${ALL_SCENARIOS.join(',')} (default all)
  --batch-size N        events per batch request in the batch scenario (default 100)
  --inbox-events N      events stored for the one inbox customer (default 1000000)
  --inbox-requests N    sequential first-page reads measured (default 200)
  --inbox-pages N       pages followed via cursor (default 50)
  --inbox-settle S      wait up to S seconds for stored events to leave 'pending' before
                        reading (default 120; 0 = do not wait)
  --inbox-seed-timeout S  stop seeding after S seconds and measure what was stored (default 1800)
  --url URL             use an already-running server (127.0.0.1/localhost only) instead of
                        starting one; needs --admin-token (or TRIGGERS_ADMIN_TOKEN)
  --admin-token TOKEN   admin token for --url
  --cpu-prof            run each started server with node --cpu-prof and summarise the profile
                        of the measured window (written to bench/results/profiles/)
  --server-env K=V      extra environment for the started servers (repeatable), e.g.
                        --server-env TRIGGERS_SQLITE_SYNCHRONOUS=normal
  --keep-data           keep the servers' temporary data folders
  --echo                show the servers' output
  --help
`;

// ---------------------------------------------------------------- flags

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '64' },
    scenarios: { type: 'string', default: ALL_SCENARIOS.join(',') },
    'batch-size': { type: 'string', default: '100' },
    'inbox-events': { type: 'string', default: '1000000' },
    'inbox-requests': { type: 'string', default: '200' },
    'inbox-pages': { type: 'string', default: '50' },
    'inbox-settle': { type: 'string', default: '120' },
    'inbox-seed-timeout': { type: 'string', default: '1800' },
    url: { type: 'string' },
    'admin-token': { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    'server-env': { type: 'string', multiple: true, default: [] },
    'keep-data': { type: 'boolean', default: false },
    echo: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (flags.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

function num(name: string, value: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) {
    process.stderr.write(`--${name}: expected a number in [${min}, ${max}], got ${JSON.stringify(value)}\n`);
    process.exit(2);
  }
  return n;
}

const settings = {
  durationS: num('duration', flags.duration!, 0.1),
  warmupS: num('warmup', flags.warmup!, 0),
  connections: Math.floor(num('connections', flags.connections!, 1, 10_000)),
  scenarios: flags.scenarios!.split(',').map((s) => s.trim()).filter(Boolean) as Scenario[],
  batchSize: Math.floor(num('batch-size', flags['batch-size']!, 1, MAX_BATCH)),
  inboxEvents: Math.floor(num('inbox-events', flags['inbox-events']!, 1)),
  inboxRequests: Math.floor(num('inbox-requests', flags['inbox-requests']!, 1)),
  inboxPages: Math.floor(num('inbox-pages', flags['inbox-pages']!, 0)),
  inboxSettleS: num('inbox-settle', flags['inbox-settle']!, 0),
  inboxSeedTimeoutS: num('inbox-seed-timeout', flags['inbox-seed-timeout']!, 1),
  url: flags.url?.replace(/\/+$/, ''),
  cpuProf: flags['cpu-prof']!,
  serverEnv: Object.fromEntries(
    flags['server-env']!.map((kv) => {
      const i = kv.indexOf('=');
      if (i <= 0) {
        process.stderr.write(`--server-env: expected KEY=VALUE, got ${JSON.stringify(kv)}\n`);
        process.exit(2);
      }
      return [kv.slice(0, i), kv.slice(i + 1)];
    }),
  ) as Record<string, string>,
  keepData: flags['keep-data']!,
  echo: flags.echo!,
};
for (const s of settings.scenarios) {
  if (!(ALL_SCENARIOS as readonly string[]).includes(s)) {
    process.stderr.write(`--scenarios: unknown scenario ${JSON.stringify(s)} (known: ${ALL_SCENARIOS.join(', ')})\n`);
    process.exit(2);
  }
}
const adminToken = settings.url ? (flags['admin-token'] ?? process.env.TRIGGERS_ADMIN_TOKEN) : ADMIN_TOKEN;
if (settings.url) {
  let host = '';
  try {
    host = new URL(settings.url).hostname;
  } catch {
    // reported below
  }
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(host)) {
    process.stderr.write(`--url: this benchmark only targets the local machine (127.0.0.1/localhost), got ${JSON.stringify(settings.url)}\n`);
    process.exit(2);
  }
  if (!adminToken) {
    process.stderr.write('--url needs --admin-token (or TRIGGERS_ADMIN_TOKEN) to create the bench customer\n');
    process.exit(2);
  }
}

// ---------------------------------------------------------------- lifecycle: always kill the children

const abort = new AbortController();
/** Temporary data folders still to remove (also on a forced exit). */
const tempDirs = new Set<string>();
process.on('exit', () => {
  killAllChildrenSync();
  if (!settings.keepData) for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (interrupted) {
      killAllChildrenSync();
      process.exit(130);
    }
    interrupted = true;
    log(`\n${signal}: stopping the load and the child processes…`);
    abort.abort();
    // The loops stop at their next request; whatever is still running after 5 s is killed.
    setTimeout(() => {
      killAllChildrenSync();
      process.exit(130);
    }, 5000).unref();
  });
}

function log(line: string): void {
  process.stderr.write(line + '\n');
}

function checkAborted(): void {
  if (abort.signal.aborted) throw new Error('interrupted');
}

// ---------------------------------------------------------------- servers

interface Target {
  origin: string;
  apiKey: string;
  customerId: string;
  serverPid?: number;
  child?: Child;
}

function serverEnv(port: number, dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'PORT' || k.startsWith('TRIGGERS_')) continue; // reproducible: only what the bench sets
    env[k] = v;
  }
  return {
    ...env,
    PORT: String(port),
    TRIGGERS_HOST: '127.0.0.1',
    TRIGGERS_DATA_DIR: dataDir,
    TRIGGERS_ADMIN_TOKEN: ADMIN_TOKEN,
    TRIGGERS_LOG_LEVEL: 'warn',
    TRIGGERS_RATE_LIMIT_PER_SECOND: '10000000', // the maximum the config accepts; the limiter must not throttle the bench
    ...settings.serverEnv,
  };
}

async function adminRequest(origin: string, method: string, urlPath: string, body: unknown): Promise<{ status: number; json: any; text: string }> {
  const response = await fetch(origin + urlPath, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text };
}

async function createCustomer(origin: string, name: string): Promise<{ apiKey: string; customerId: string }> {
  const created = await adminRequest(origin, 'POST', '/admin/test-customer', { name, email: `${name.replace(/\W+/g, '-')}@bench.test` });
  if (created.status !== 201 || typeof created.json?.api_key !== 'string') {
    throw new Error(`POST /admin/test-customer answered ${created.status}: ${created.text.slice(0, 300)}`);
  }
  if (settings.url) {
    // A server we did not start may have a low default rate limit: lift it for this customer.
    const patched = await adminRequest(origin, 'PATCH', `/admin/customers/${created.json.customer_id}`, { rate_limit_per_second: 10_000_000 });
    if (patched.status >= 300) log(`warning: could not lift the rate limit (${patched.status}); results may be throttled`);
    else await new Promise((r) => setTimeout(r, 1100)); // "applies within 1 s"
  }
  return { apiKey: created.json.api_key, customerId: created.json.customer_id };
}

interface ServerRun<T> {
  result: T;
  startupMs?: number;
  profile?: ProfileSummary;
  profileError?: string;
}

/** Starts a fresh server (or uses --url), runs `fn`, and always stops the server. */
async function withTriggersServer<T>(scenario: string, fn: (target: Target, markWindow: (from: bigint, to: bigint) => void) => Promise<T>): Promise<ServerRun<T>> {
  let window: [number, number] | undefined;
  const markWindow = (from: bigint, to: bigint) => {
    window = [Number(from / 1000n), Number(to / 1000n)];
  };
  if (settings.url) {
    const customer = await createCustomer(settings.url, `bench-${scenario}-${Date.now()}`);
    return { result: await fn({ origin: settings.url, ...customer }, markWindow) };
  }
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `triggers-bench-${scenario}-`));
  tempDirs.add(dataDir);
  // One folder per server: node writes one profile per thread (the tsx loader runs in its own
  // thread), named CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; thread 0 is the main thread.
  const profileDir = path.join(RESULTS_DIR, 'profiles', `${scenario}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const nodeArgs = settings.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  if (settings.cpuProf) mkdirSync(profileDir, { recursive: true });
  const child = spawnChild(`server:${scenario}`, [...nodeArgs, '--import', 'tsx', '--import', './bench/lib/exit-with-parent.ts', 'packages/all-in-one/src/main.ts'], {
    cwd: ROOT,
    env: serverEnv(port, dataDir),
    echo: settings.echo,
  });
  const origin = `http://127.0.0.1:${port}`;
  try {
    const startupMs = await waitForHealth(origin, child, 90_000, abort.signal);
    log(`  server for ${scenario} up on ${origin} (pid ${child.pid}, ${startupMs} ms, data in ${dataDir})`);
    const customer = await createCustomer(origin, `bench-${scenario}`);
    const result = await fn({ origin, ...customer, serverPid: child.pid, child }, markWindow);
    if (child.exited) throw new Error(`the server exited during the run. Its output:\n${child.output()}`);
    const run: ServerRun<T> = { result, startupMs };
    await child.stop(settings.cpuProf ? 120_000 : 5000);
    if (settings.cpuProf) {
      try {
        const main = readdirSync(profileDir).find((f) => f.split('.')[4] === '0' && f.endsWith('.cpuprofile'));
        if (!main) throw new Error(`no main-thread profile in ${profileDir}`);
        run.profile = summarizeProfile(path.join(profileDir, main), { root: ROOT, windowUs: window, top: 30 });
      } catch (error) {
        run.profileError = error instanceof Error ? error.message : String(error);
      }
    }
    return run;
  } finally {
    await child.stop(2000);
    if (!settings.keepData) {
      rmSync(dataDir, { recursive: true, force: true });
      tempDirs.delete(dataDir);
    }
  }
}

async function withBareServer<T>(fn: (origin: string, pid: number) => Promise<T>): Promise<T> {
  const port = await freePort();
  const env = { ...process.env, PORT: String(port) };
  const child = spawnChild('bare', ['--import', 'tsx', '--import', './bench/lib/exit-with-parent.ts', 'bench/bare-server.ts'], { cwd: ROOT, env, echo: settings.echo });
  const origin = `http://127.0.0.1:${port}`;
  try {
    await waitForHealth(origin, child, 90_000, abort.signal);
    log(`  bare node:http server up on ${origin} (pid ${child.pid})`);
    return await fn(origin, child.pid);
  } finally {
    await child.stop(2000);
  }
}

// ---------------------------------------------------------------- scenarios

/** One request first, so a missing route or a wrong status fails with a clear message, not 600k errors. */
async function probe(origin: string, spec: RequestSpec, expect: number): Promise<void> {
  const response = await fetch(origin + spec.path, {
    method: spec.method,
    headers: spec.headers,
    body: typeof spec.body === "string" || spec.body === undefined ? spec.body : new Uint8Array(spec.body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (response.status !== expect) throw new Error(`${spec.method} ${spec.path} answered ${response.status} (expected ${expect}): ${text.slice(0, 300)}`);
}

async function warmAndMeasure(
  name: string,
  origin: string,
  request: (i: number) => RequestSpec,
  expectStatus: number,
  itemsPerRequest: number,
  serverPid: number | undefined,
  markWindow?: (from: bigint, to: bigint) => void,
): Promise<LoadResult & { warmup?: { requests: number; errors: number } }> {
  await probe(origin, request(0), expectStatus);
  let warmup: { requests: number; errors: number } | undefined;
  if (settings.warmupS > 0) {
    log(`  ${name}: warm-up ${settings.warmupS} s…`);
    const w = await runLoad({ origin, connections: settings.connections, durationMs: settings.warmupS * 1000, request, expectStatus, itemsPerRequest, signal: abort.signal });
    warmup = { requests: w.requests, errors: w.errors };
    checkAborted();
  }
  log(`  ${name}: measuring ${settings.durationS} s at ${settings.connections} connections…`);
  const from = process.hrtime.bigint();
  const result = await runLoad({
    origin,
    connections: settings.connections,
    durationMs: settings.durationS * 1000,
    request,
    expectStatus,
    itemsPerRequest,
    serverPid,
    signal: abort.signal,
  });
  markWindow?.(from, process.hrtime.bigint());
  checkAborted();
  log(
    `  ${name}: ${fmtInt(result.itemsPerSecond)} events/s, ${fmtInt(result.requestsPerSecond)} req/s, ` +
      `p50 ${fmtMs(result.latencyMs.p50)} ms, p99 ${fmtMs(result.latencyMs.p99)} ms, errors ${result.errors}`,
  );
  for (const e of result.errorSamples) log(`    error: ${e}`);
  return { ...result, warmup };
}

function apiHeaders(apiKey: string): Record<string, string> {
  return { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
}

async function scenarioIngest() {
  const bodies = singleEventBodies(64);
  return withTriggersServer('ingest', (t, mark) => {
    const headers = apiHeaders(t.apiKey);
    return warmAndMeasure('ingest', t.origin, (i) => ({ method: 'POST', path: '/api/v1/events', headers, body: bodies[i % bodies.length] }), 202, 1, t.serverPid, mark);
  });
}

async function scenarioBatch() {
  const bodies = batchBodies(settings.batchSize, 16);
  return withTriggersServer('batch', (t, mark) => {
    const headers = apiHeaders(t.apiKey);
    return warmAndMeasure(
      'batch',
      t.origin,
      (i) => ({ method: 'POST', path: '/api/v1/events/batch', headers, body: bodies[i % bodies.length] }),
      202,
      settings.batchSize,
      t.serverPid,
      mark,
    );
  });
}

async function scenarioBare() {
  const bodies = singleEventBodies(64);
  const headers = apiHeaders('sk_test_bench_bare_server_does_not_check_this');
  return withBareServer((origin, pid) =>
    warmAndMeasure('bare', origin, (i) => ({ method: 'POST', path: '/api/v1/events', headers, body: bodies[i % bodies.length] }), 202, 1, pid),
  );
}

interface InboxPageStats {
  requests: number;
  ok: number;
  errors: number;
  errorSamples: string[];
  eventsPerPage: number;
  bytesPerPage: number;
  latencyMs: LatencySummary;
}

async function scenarioInbox() {
  return withTriggersServer('inbox', async (t, mark) => {
    const headers = apiHeaders(t.apiKey);
    const getHeaders = { authorization: `Bearer ${t.apiKey}` };
    const target = settings.inboxEvents;
    const requests = Math.ceil(target / MAX_BATCH);
    const seedConnections = Math.min(settings.connections, 16);

    // 1. Seed through the public batch endpoint, 500 events a request, concurrently.
    log(`  inbox: storing ${fmtInt(target)} events for one customer (${fmtInt(requests)} batch requests of ≤${MAX_BATCH}, ${seedConnections} connections)…`);
    await probe(t.origin, { method: 'POST', path: '/api/v1/events/batch', headers, body: batchBody(1, 0) }, 202);
    const seedFrom = Date.now();
    const seed = await runLoad({
      origin: t.origin,
      connections: seedConnections,
      totalRequests: requests,
      durationMs: settings.inboxSeedTimeoutS * 1000,
      request: (i) => ({ method: 'POST', path: '/api/v1/events/batch', headers, body: batchBody(Math.min(MAX_BATCH, target - i * MAX_BATCH), 1 + i * MAX_BATCH) }),
      expectStatus: 202,
      itemsPerRequest: MAX_BATCH,
      serverPid: t.serverPid,
      signal: abort.signal,
      progressEveryMs: 10_000,
      onProgress: (ok, ms) => log(`    … ${fmtInt(Math.min(target, ok * MAX_BATCH))} stored after ${(ms / 1000).toFixed(0)} s`),
    });
    checkAborted();
    const stored = 1 + Math.min(target, seed.ok * MAX_BATCH); // +1: the probe's event
    const seedS = (Date.now() - seedFrom) / 1000;
    log(`  inbox: stored ${fmtInt(stored)} events in ${seedS.toFixed(1)} s (${fmtInt(stored / seedS)} events/s, ${seed.errors} failed requests)`);
    for (const e of seed.errorSamples) log(`    error: ${e}`);

    // 2. Let the matcher work off the backlog (every event leaves 'pending'), so the reads are measured on a quiet server.
    let settled: { waitedS: number; settled: boolean; note?: string } = { waitedS: 0, settled: false, note: 'not waited (--inbox-settle 0)' };
    if (settings.inboxSettleS > 0) {
      const from = Date.now();
      settled = { waitedS: 0, settled: false };
      let idleChecks = 0;
      while (Date.now() - from < settings.inboxSettleS * 1000 && !abort.signal.aborted) {
        const r = await fetch(`${t.origin}/api/v1/inbox?status=pending&limit=1`, { headers: getHeaders, signal: AbortSignal.timeout(30_000) });
        const body: any = await r.json().catch(() => undefined);
        if (r.status !== 200) {
          settled.note = `status=pending query answered ${r.status}`;
          break;
        }
        if (Array.isArray(body?.events) && body.events.length === 0) {
          settled.settled = true;
          break;
        }
        // Nothing may be consuming the backlog (no matcher running): stop once the server has been idle
        // (< 5 % of a core, measured between our queries) for three checks in a row.
        const cpuBefore = t.serverPid ? processCpuSeconds(t.serverPid) : undefined;
        await new Promise((res) => setTimeout(res, 2000));
        const cpuAfter = t.serverPid ? processCpuSeconds(t.serverPid) : undefined;
        if (cpuBefore !== undefined && cpuAfter !== undefined) {
          idleChecks = (cpuAfter - cpuBefore) / 2 < 0.05 ? idleChecks + 1 : 0;
          if (idleChecks >= 3) {
            settled.note = 'events still pending and the server idle: nothing is processing them';
            break;
          }
        }
      }
      settled.waitedS = round((Date.now() - from) / 1000, 1);
      log(`  inbox: backlog ${settled.settled ? 'processed' : 'NOT processed'} after ${settled.waitedS} s${settled.note ? ` (${settled.note})` : ''}`);
    }
    checkAborted();

    const pageStats = (r: Awaited<ReturnType<typeof runSequential>>, pages: number[], requested: number): InboxPageStats => ({
      requests: requested,
      ok: r.ok,
      errors: r.errors,
      errorSamples: r.errorSamples,
      eventsPerPage: pages.length ? Math.round(pages.reduce((a, b) => a + b, 0) / pages.length) : 0,
      bytesPerPage: r.ok ? Math.round(r.bytes / r.ok) : 0,
      latencyMs: r.latencyMs,
    });
    const countEvents = (into: number[]) => (body: unknown) => {
      const events = (body as { events?: unknown[] } | undefined)?.events;
      if (Array.isArray(events)) into.push(events.length);
    };

    // 3. Newest page of 1,000, sequentially (after 10 unmeasured reads).
    const firstPath = '/api/v1/inbox?limit=1000';
    await runSequential({ origin: t.origin, count: 10, request: () => ({ method: 'GET', path: firstPath, headers: getHeaders }), expectStatus: 200, signal: abort.signal });
    log(`  inbox: ${settings.inboxRequests} sequential GET ${firstPath}…`);
    const from = process.hrtime.bigint();
    const firstCounts: number[] = [];
    const countFirst = countEvents(firstCounts);
    const first = await runSequential({
      origin: t.origin,
      count: settings.inboxRequests,
      request: (_i, previous) => {
        if (previous !== undefined) countFirst(previous);
        return { method: 'GET', path: firstPath, headers: getHeaders };
      },
      expectStatus: 200,
      signal: abort.signal,
    });
    countFirst(first.last);
    checkAborted();

    // 4. Deeper pages, following the cursor from the newest.
    const deepCounts: number[] = [];
    const countDeep = countEvents(deepCounts);
    let reachedEnd = false;
    const deep = await runSequential({
      origin: t.origin,
      count: settings.inboxPages,
      request: (i, previous) => {
        if (i === 0) return { method: 'GET', path: firstPath, headers: getHeaders };
        countDeep(previous);
        const cursor = (previous as { cursor?: string | null; has_more?: boolean } | undefined)?.cursor;
        if (!cursor) {
          reachedEnd = true;
          return undefined;
        }
        return { method: 'GET', path: `${firstPath}&cursor=${encodeURIComponent(cursor)}`, headers: getHeaders };
      },
      expectStatus: 200,
      signal: abort.signal,
    });
    if (!reachedEnd) countDeep(deep.last);
    checkAborted();

    // 5. Filtered by event_type (a quarter of the events match).
    const filteredPath = `/api/v1/inbox?limit=1000&event_type=${encodeURIComponent(FILTER_EVENT_TYPE)}`;
    const filteredCounts: number[] = [];
    const countFiltered = countEvents(filteredCounts);
    const filteredRequests = Math.max(1, Math.round(settings.inboxRequests / 4));
    const filtered = await runSequential({
      origin: t.origin,
      count: filteredRequests,
      request: (_i, previous) => {
        if (previous !== undefined) countFiltered(previous);
        return { method: 'GET', path: filteredPath, headers: getHeaders };
      },
      expectStatus: 200,
      signal: abort.signal,
    });
    countFiltered(filtered.last);
    mark(from, process.hrtime.bigint());

    const result = {
      storedEvents: stored,
      seed: { seconds: round(seedS, 1), eventsPerSecond: round(stored / seedS, 0), failedRequests: seed.errors, errorSamples: seed.errorSamples, batchLatencyMs: seed.latencyMs, serverCpuCores: seed.serverCpuCores, otherCpuCores: seed.otherCpuCores },
      backlog: settled,
      firstPage: { path: firstPath, ...pageStats(first, firstCounts, settings.inboxRequests) },
      cursorPages: { path: `${firstPath}&cursor=…`, ...pageStats(deep, deepCounts, settings.inboxPages), eventsVisited: deepCounts.reduce((a, b) => a + b, 0) },
      filteredPage: { path: filteredPath, ...pageStats(filtered, filteredCounts, filteredRequests) },
    };
    for (const [name, s] of [['first page', result.firstPage], ['cursor pages', result.cursorPages], ['event_type page', result.filteredPage]] as const) {
      log(`  inbox ${name}: p50 ${fmtMs(s.latencyMs.p50)} ms, p95 ${fmtMs(s.latencyMs.p95)} ms, p99 ${fmtMs(s.latencyMs.p99)} ms (${s.ok} ok, ${s.errors} errors, ${s.eventsPerPage} events/page)`);
      for (const e of s.errorSamples) log(`    error: ${e}`);
    }
    return result;
  });
}

// ---------------------------------------------------------------- report

/**
 * The disk's durable-write latency where the servers keep their data (os.tmpdir()): 200 appends of
 * 4 KiB, each followed by fdatasync — what SQLite does per commit with synchronous=FULL in WAL mode.
 */
function measureFsync(): { dir: string; appends: number; p50Ms: number; p99Ms: number } | undefined {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'triggers-bench-fsync-'));
  try {
    const fd = openSync(path.join(dir, 'probe'), 'a');
    const block = Buffer.alloc(4096, 7);
    const samples: number[] = [];
    try {
      for (let i = 0; i < 200; i++) {
        const t0 = process.hrtime.bigint();
        writeSync(fd, block);
        fdatasyncSync(fd);
        samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    } finally {
      closeSync(fd);
    }
    const summary = summarize(samples);
    return { dir: os.tmpdir(), appends: samples.length, p50Ms: summary.p50, p99Ms: summary.p99 };
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function machineInfo() {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    availableParallelism: os.availableParallelism(),
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverageAtStart: os.loadavg().map((n) => round(n, 2)),
    loadAverageAtEnd: [] as number[],
    fsync: settings.url ? undefined : measureFsync(),
  };
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

async function main(): Promise<number> {
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  log(`Triggers benchmark — ${machine.cpus}× ${machine.cpuModel}, Node ${machine.node}, ${machine.platform}`);
  log(
    `duration ${settings.durationS} s (+${settings.warmupS} s warm-up), ${settings.connections} connections, scenarios ${settings.scenarios.join(',')}` +
      (settings.url ? `, target ${settings.url}` : ', servers started per scenario'),
  );

  const scenarios: Record<string, unknown> = {};
  const failures: Record<string, string> = {};
  const profiles: Record<string, ProfileSummary | string> = {};
  let ingest: LoadResult | undefined;
  let batch: LoadResult | undefined;
  let bare: LoadResult | undefined;
  let inbox: Awaited<ReturnType<typeof scenarioInbox>>['result'] | undefined;

  for (const scenario of settings.scenarios) {
    if (abort.signal.aborted) break;
    log(`\n[${scenario}]`);
    try {
      if (scenario === 'bare') {
        bare = await scenarioBare();
        scenarios.bare = bare;
        continue;
      }
      const run = scenario === 'ingest' ? await scenarioIngest() : scenario === 'batch' ? await scenarioBatch() : await scenarioInbox();
      scenarios[scenario] = { ...run.result, serverStartupMs: run.startupMs };
      if (scenario === 'ingest') ingest = run.result as LoadResult;
      if (scenario === 'batch') batch = run.result as LoadResult;
      if (scenario === 'inbox') inbox = run.result as typeof inbox;
      if (run.profile) {
        profiles[scenario] = run.profile;
        log(formatProfileSummary(run.profile, 20).replace(/^/gm, '  '));
      } else if (run.profileError) profiles[scenario] = run.profileError;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      failures[scenario] = message;
      log(`  ${scenario} FAILED: ${message}`);
    }
  }

  // Tables.
  const loadRows: string[][] = [];
  const addLoad = (name: string, r: LoadResult | undefined) => {
    if (!r) return;
    loadRows.push([
      name,
      fmtInt(r.requestsPerSecond),
      fmtInt(r.itemsPerSecond),
      fmtMs(r.latencyMs.p50),
      fmtMs(r.latencyMs.p90),
      fmtMs(r.latencyMs.p99),
      fmtMs(r.latencyMs.max),
      fmtInt(r.errors),
      r.serverCpuCores !== undefined ? r.serverCpuCores.toFixed(2) : '-',
      r.loadGeneratorCpuCores.toFixed(2),
      r.otherCpuCores !== undefined ? r.otherCpuCores.toFixed(2) : '-',
    ]);
  };
  addLoad('ingest  POST /api/v1/events', ingest);
  addLoad(`batch   POST /api/v1/events/batch ×${settings.batchSize}`, batch);
  addLoad('bare    node:http 202', bare);
  const ratio = ingest && bare && bare.requestsPerSecond > 0 ? round(ingest.requestsPerSecond / bare.requestsPerSecond, 3) : undefined;

  const out: string[] = [''];
  out.push(`Triggers benchmark  ${startedAt}`);
  out.push(
    `machine: ${machine.cpus}× ${machine.cpuModel}, ${machine.memoryGiB} GiB, ${machine.platform}, Node ${machine.node}; ` +
      `load average ${machine.loadAverageAtStart[0]} at start, ${os.loadavg()[0].toFixed(2)} at end`,
  );
  if (machine.fsync) out.push(`disk: 4 KiB append + fdatasync in ${machine.fsync.dir}: p50 ${fmtMs(machine.fsync.p50Ms)} ms, p99 ${fmtMs(machine.fsync.p99Ms)} ms`);
  out.push(`load: undici Pool, ${settings.connections} connections, pipelining 1, ${settings.durationS} s measured after ${settings.warmupS} s warm-up, all on 127.0.0.1`);
  out.push('');
  if (loadRows.length) {
    out.push(table(['scenario', 'req/s', 'events/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors', 'srv CPU', 'gen CPU', 'other CPU'], loadRows));
    out.push('(CPU in cores during the measurement: the server process, the load generator, everything else on the machine)');
    const noisy = [ingest, batch, bare].some((r) => r?.otherCpuCores !== undefined && r.otherCpuCores > 0.25);
    if (noisy) out.push(`WARNING: other processes used CPU during the run (see "other CPU"): the figures are disturbed; run on a quiet machine.`);
    if (ratio !== undefined) out.push(`single-event ingest / bare node:http = ${ratio.toFixed(3)}`);
    out.push('');
  }
  if (inbox) {
    out.push(
      `inbox: ${fmtInt(inbox.storedEvents)} events stored for one customer in ${inbox.seed.seconds} s ` +
        `(${fmtInt(inbox.seed.eventsPerSecond)} events/s via batches of ${MAX_BATCH}); backlog ${inbox.backlog.settled ? `processed after ${inbox.backlog.waitedS} s` : `not processed (${inbox.backlog.note ?? `waited ${inbox.backlog.waitedS} s`})`}`,
    );
    const rows = (
      [
        ['newest page, limit=1000', inbox.firstPage],
        ['cursor pages, limit=1000', inbox.cursorPages],
        [`event_type=${FILTER_EVENT_TYPE}, limit=1000`, inbox.filteredPage],
      ] as const
    ).map(([name, s]) => [name, String(s.ok), String(s.eventsPerPage), fmtMs(s.latencyMs.p50), fmtMs(s.latencyMs.p95), fmtMs(s.latencyMs.p99), fmtMs(s.latencyMs.max), String(s.errors)]);
    out.push(table(['inbox read (sequential)', 'reads', 'events', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'errors'], rows));
    out.push('');
  }

  // Targets.
  const targets: { target: string; measured: string; pass: boolean | null }[] = [];
  if (ingest) {
    targets.push({ target: 'single-event ≥ 10,000 events/s (64 conn)', measured: fmtInt(ingest.itemsPerSecond), pass: ingest.itemsPerSecond >= 10_000 });
    targets.push({ target: 'single-event p99 ≤ 50 ms (64 conn)', measured: `${fmtMs(ingest.latencyMs.p99)} ms`, pass: ingest.latencyMs.p99 <= 50 });
    targets.push({ target: 'single-event error count = 0', measured: fmtInt(ingest.errors), pass: ingest.errors === 0 });
  }
  if (ratio !== undefined) targets.push({ target: 'single-event ≥ 0.40 × bare node:http', measured: ratio.toFixed(3), pass: ratio >= 0.4 });
  if (batch) targets.push({ target: 'batch ≥ 100,000 events/s', measured: fmtInt(batch.itemsPerSecond), pass: batch.itemsPerSecond >= 100_000 });
  if (inbox) {
    const full = inbox.storedEvents >= 1_000_000;
    const worst = Math.max(inbox.firstPage.latencyMs.p95, inbox.cursorPages.ok ? inbox.cursorPages.latencyMs.p95 : 0);
    targets.push({
      target: `inbox page of 1,000 p95 ≤ 50 ms (${fmtInt(inbox.storedEvents)} stored${full ? '' : ', target needs 1,000,000'})`,
      measured: `${fmtMs(inbox.firstPage.latencyMs.p95)} ms newest, ${fmtMs(inbox.cursorPages.latencyMs.p95)} ms cursor`,
      pass: full && inbox.firstPage.errors === 0 ? worst <= 50 : null,
    });
  }
  if (targets.length) {
    out.push(table(['target', 'measured', 'result'], targets.map((t) => [t.target, t.measured, t.pass === null ? 'n/a' : t.pass ? 'PASS' : 'FAIL'])));
    out.push('');
  }
  for (const [name, message] of Object.entries(failures)) {
    const text = message.split('\n').map((l) => l.trim()).filter(Boolean).join(' | ');
    out.push(`${name}: FAILED — ${text.length > 400 ? `${text.slice(0, 400)}…` : text}`);
  }
  process.stdout.write(out.join('\n') + '\n');

  machine.loadAverageAtEnd = os.loadavg().map((n) => round(n, 2));
  const results = {
    startedAt,
    finishedAt: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine,
    settings: { ...settings, adminToken: undefined, loadGenerator: 'undici Pool, pipelining 1' },
    scenarios,
    ingestToBareRatio: ratio,
    targets,
    failures,
    profiles,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const json = JSON.stringify(results, null, 2) + '\n';
  // An interrupted run does not replace latest.json.
  const file = interrupted ? 'interrupted.json' : 'latest.json';
  writeFileSync(path.join(RESULTS_DIR, file), json);
  writeFileSync(path.join(RESULTS_DIR, `${startedAt.replace(/[:.]/g, '-')}${interrupted ? '-interrupted' : ''}.json`), json);
  log(`results written to ${path.relative(ROOT, path.join(RESULTS_DIR, file))}`);
  if (settings.cpuProf) log(`profiles in ${path.relative(ROOT, path.join(RESULTS_DIR, 'profiles'))}/ (open in Chrome DevTools or summarise with bench/profile-summary.ts)`);
  return Object.keys(failures).length > 0 || interrupted ? 1 : 0;
}

main()
  .catch((error) => {
    log(`bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    return 1;
  })
  .then((code) => {
    if (liveChildren() > 0) killAllChildrenSync();
    // Exit explicitly: nothing (a socket, a timer) may keep the benchmark alive.
    process.exit(interrupted ? 130 : code);
  });
