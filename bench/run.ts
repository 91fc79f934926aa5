/**
 * `npm run bench [-- flags]`: load tests of the Triggers API against its targets.
 *
 * Every measurement starts its own server in a child process (the all-in-one, embedded SQLite —
 * or the engines of --backends — fresh data, 127.0.0.1, a free port), creates a customer through
 * the admin API, warms up, then drives it from this process with an undici Pool (64 connections,
 * pipelining 1) for a fixed time. The delivery scenarios add a webhook receiver in a child process
 * of its own (bench/receiver.ts). Results are printed as tables and written to
 * bench/results/latest.json. Run with --help for the flags.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, fdatasyncSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, killAllChildrenSync, listeningPids, liveChildren, machineBusySeconds, processCpuSeconds, spawnChild, treeCpuSeconds, waitForHealth, type Child } from './lib/children.ts';
import { round, runLoad, runSequential, type LoadResult, type RequestSpec } from './lib/load.ts';
import { batchBodies, batchBody, deliveryBatchBody, deliveryEventBodies, DELIVERY_SELECTOR, FILTER_EVENT_TYPE, singleEventBodies, webhookBodyParts } from './lib/payloads.ts';
import { runOpenLoop, wallNow } from './lib/open-loop.ts';
import { perSecondBuckets, rateBetween, startReceiver, type ClockOffset, type Receiver, type ReceiverStats } from './lib/receiver-client.ts';
import { BACKEND_PRESETS, enginePorts, resolveEngines, type BackendPreset } from './lib/backends.ts';
import { prepareBackends, type EngineAddresses, type PreparedBackends } from '@triggers/testkit/service-processes.ts';
import { fmtInt, fmtMs, summarize, type LatencySummary } from './lib/stats.ts';
import { formatProfileSummary, summarizeProfile, type ProfileSummary } from './lib/cpuprofile.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS_DIR = path.join(ROOT, 'bench', 'results');
const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
const ALL_SCENARIOS = ['ingest', 'batch', 'bare', 'inbox', 'delivery-latency', 'delivery-throughput'] as const;
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
  --delivery-rate N     delivery-latency: events/s posted open-loop (default 1000)
  --delivery-settle S   delivery-latency: wait up to S s after the last post for the remaining
                        deliveries (default 15)
  --delivery-max-events N  delivery-throughput: stop pre-loading after N events (default 400000)
  --delivery-preload S  delivery-throughput: stop pre-loading after S s (default 60)
  --delivery-batch N    delivery-throughput: events per pre-load batch request (default 100)
  --delivery-connections N  delivery-throughput: connections of the bare undici client (default:
                        the most the deliverer had open to the receiver during the run)
  --backends NAME       run the started servers on real engines (started beforehand with
                        scripts/engines/*.sh; see docs/backends.md): ${Object.keys(BACKEND_PRESETS).join(', ')}
                        (default sqlite: the embedded mode)
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
    'delivery-rate': { type: 'string', default: '1000' },
    'delivery-settle': { type: 'string', default: '15' },
    'delivery-max-events': { type: 'string', default: '400000' },
    'delivery-preload': { type: 'string', default: '60' },
    'delivery-batch': { type: 'string', default: '100' },
    'delivery-connections': { type: 'string' },
    backends: { type: 'string', default: 'sqlite' },
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
  deliveryRate: num('delivery-rate', flags['delivery-rate']!, 1, 100_000),
  deliverySettleS: num('delivery-settle', flags['delivery-settle']!, 0),
  deliveryMaxEvents: Math.floor(num('delivery-max-events', flags['delivery-max-events']!, 1)),
  deliveryPreloadS: num('delivery-preload', flags['delivery-preload']!, 1),
  deliveryBatch: Math.floor(num('delivery-batch', flags['delivery-batch']!, 1, MAX_BATCH)),
  deliveryConnections: flags['delivery-connections'] !== undefined ? Math.floor(num('delivery-connections', flags['delivery-connections'], 1, 10_000)) : undefined,
  backends: flags.backends!,
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
if (!Object.hasOwn(BACKEND_PRESETS, settings.backends)) {
  process.stderr.write(`--backends: unknown combination ${JSON.stringify(settings.backends)} (known: ${Object.keys(BACKEND_PRESETS).join(', ')})\n`);
  process.exit(2);
}
const preset: BackendPreset = BACKEND_PRESETS[settings.backends];
if (settings.url && preset.name !== 'sqlite') {
  process.stderr.write('--backends applies to the servers the bench starts; it cannot be combined with --url\n');
  process.exit(2);
}
/** Engine addresses, resolved (and checked) once in main() when --backends names engines. */
let engineAddresses: EngineAddresses | undefined;
/** CPU seconds used so far by the engines' processes (and their children), when --backends names engines. */
let engineCpu: (() => number | undefined) | undefined;
/** The same per engine (postgres, redis, kafka, dynamodb, sqs), for the delivery scenarios' breakdown. */
const engineCpuByName: Record<string, () => number | undefined> = {};

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

function serverEnv(port: number, dataDir: string, backendEnv: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'PORT' || k.startsWith('TRIGGERS_')) continue; // reproducible: only what the bench sets
    env[k] = v;
  }
  return {
    ...env,
    // The AWS SDK's once-per-process notice that its next major needs Node 22.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...backendEnv,
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
  /** Other threads of the server that ran project code in the window (e.g. a matcher/deliverer worker thread). */
  threadProfiles?: { thread: string; summary: ProfileSummary }[];
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
  // On engines: a schema, queue/topic prefix and table of this server's own (removed afterwards).
  let prepared: PreparedBackends | undefined;
  if (preset.name !== 'sqlite') {
    prepared = await prepareBackends(preset.choice, engineAddresses!, `bench-${scenario}`);
    const spaces = [
      prepared.postgresSchema && `schema ${prepared.postgresSchema}`,
      prepared.env.TRIGGERS_KAFKA_TOPIC_PREFIX && `topics ${prepared.env.TRIGGERS_KAFKA_TOPIC_PREFIX}-*`,
      prepared.env.TRIGGERS_SQS_QUEUE_PREFIX && `queues ${prepared.env.TRIGGERS_SQS_QUEUE_PREFIX}-*`,
      prepared.env.TRIGGERS_DYNAMODB_TABLE && `table ${prepared.env.TRIGGERS_DYNAMODB_TABLE}`,
    ].filter(Boolean);
    log(`  backends ${preset.name}: ${spaces.join(', ')}`);
  }
  const dataDir = prepared?.dataDir ?? mkdtempSync(path.join(os.tmpdir(), `triggers-bench-${scenario}-`));
  tempDirs.add(dataDir);
  // One folder per server: node writes one profile per thread (the tsx loader runs in its own
  // thread), named CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; thread 0 is the main thread.
  const profileDir = path.join(RESULTS_DIR, 'profiles', `${scenario}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const nodeArgs = settings.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  if (settings.cpuProf) mkdirSync(profileDir, { recursive: true });
  const child = spawnChild(`server:${scenario}`, [...nodeArgs, '--import', 'tsx', '--import', './bench/lib/exit-with-parent.mjs', 'packages/all-in-one/src/main.ts'], {
    cwd: ROOT,
    env: serverEnv(port, dataDir, prepared?.env),
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
        const files = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
        const main = files.find((f) => f.split('.')[4] === '0');
        if (!main) throw new Error(`no main-thread profile in ${profileDir}`);
        run.profile = summarizeProfile(path.join(profileDir, main), { root: ROOT, windowUs: window, top: 30 });
        // Worker threads (the tsx loader's, and any the server starts): keep those that ran project code.
        for (const file of files.filter((f) => f !== main)) {
          const summary = summarizeProfile(path.join(profileDir, file), { root: ROOT, windowUs: window, top: 30 });
          const projectMs = summary.byArea.filter((a) => /^(packages|services)\//.test(a.area)).reduce((sum, a) => sum + a.ms, 0);
          if (projectMs > 0.01 * summary.sampledMs) (run.threadProfiles ??= []).push({ thread: `thread ${file.split('.')[4]}`, summary });
        }
      } catch (error) {
        run.profileError = error instanceof Error ? error.message : String(error);
      }
    }
    return run;
  } finally {
    await child.stop(2000);
    if (!settings.keepData) {
      await prepared?.cleanup(); // drops the schema, queues, topics and table (bounded in time)
      rmSync(dataDir, { recursive: true, force: true });
      tempDirs.delete(dataDir);
    } else if (prepared) {
      log(`  kept: ${dataDir} and the engines' ${JSON.stringify({ schema: prepared.postgresSchema, ...Object.fromEntries(Object.entries(prepared.env).filter(([k]) => /PREFIX|TABLE/.test(k))) })}`);
    }
  }
}

async function withBareServer<T>(fn: (origin: string, pid: number) => Promise<T>): Promise<T> {
  const port = await freePort();
  const env = { ...process.env, PORT: String(port) };
  const child = spawnChild('bare', ['--import', 'tsx', '--import', './bench/lib/exit-with-parent.mjs', 'bench/bare-server.ts'], { cwd: ROOT, env, echo: settings.echo });
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
  connections = settings.connections,
): Promise<LoadResult & { warmup?: { requests: number; errors: number } }> {
  await probe(origin, request(0), expectStatus);
  let warmup: { requests: number; errors: number } | undefined;
  if (settings.warmupS > 0) {
    log(`  ${name}: warm-up ${settings.warmupS} s…`);
    const w = await runLoad({ origin, connections, durationMs: settings.warmupS * 1000, request, expectStatus, itemsPerRequest, signal: abort.signal });
    warmup = { requests: w.requests, errors: w.errors };
    checkAborted();
  }
  log(`  ${name}: measuring ${settings.durationS} s at ${connections} connections…`);
  const from = process.hrtime.bigint();
  const result = await runLoad({
    origin,
    connections,
    durationMs: settings.durationS * 1000,
    request,
    expectStatus,
    itemsPerRequest,
    serverPid,
    engineCpuSeconds: engineCpu,
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
      engineCpuSeconds: engineCpu,
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

// ---------------------------------------------------------------- delivery scenarios

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function withReceiver<T>(fn: (receiver: Receiver) => Promise<T>): Promise<T> {
  const receiver = await startReceiver(ROOT, { echo: settings.echo, signal: abort.signal });
  log(`  webhook receiver up on ${receiver.origin} (pid ${receiver.pid}, its own process)`);
  try {
    return await fn(receiver);
  } finally {
    await receiver.stop();
  }
}

/** `POST /api/v1/subscriptions` for `bench.*` events to the receiver; returns the workflow id. */
async function createSubscription(t: Target, webhookUrl: string): Promise<string> {
  const response = await fetch(`${t.origin}/api/v1/subscriptions`, {
    method: 'POST',
    headers: apiHeaders(t.apiKey),
    body: JSON.stringify({ event_selector: DELIVERY_SELECTOR, webhook_url: webhookUrl, description: 'npm run bench' }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`POST /api/v1/subscriptions answered ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text).workflow_id;
}

/** Posts one event and waits until the receiver has it, so a broken pipeline fails before any load. */
async function probeDelivery(t: Target, receiver: Receiver, body: Buffer, timeoutMs = 60_000): Promise<number> {
  const before = (await receiver.stats()).unique;
  const started = Date.now();
  await probe(t.origin, { method: 'POST', path: '/api/v1/events', headers: apiHeaders(t.apiKey), body }, 202);
  while (Date.now() - started < timeoutMs) {
    checkAborted();
    if ((await receiver.stats()).unique > before) return Date.now() - started;
    if (t.child?.exited) throw new Error(`the server exited. Its output:\n${t.child.output()}`);
    await sleep(10);
  }
  throw new Error(
    `an accepted event did not reach the receiver (${receiver.url()}) within ${timeoutMs / 1000} s — ` +
      `is delivery to 127.0.0.1 allowed (TRIGGERS_SSRF_ALLOW, TRIGGERS_ENV=dev)?` +
      (t.child ? ` Server output:\n${t.child.output().slice(-3000)}` : ''),
  );
}

/** CPU used (cores) between start and end by named processes, this process and everything else. */
function cpuMeter(pids: Record<string, number | undefined>) {
  const wall0 = performance.now();
  const own0 = process.cpuUsage();
  const machine0 = machineBusySeconds();
  const sources: Record<string, () => number | undefined> = Object.fromEntries(
    Object.entries(pids).map(([k, pid]) => [k, () => (pid ? processCpuSeconds(pid) : undefined)]),
  );
  if (engineCpu) sources.engines = engineCpu;
  for (const [name, read] of Object.entries(engineCpuByName)) sources[`engine:${name}`] = read;
  const per0 = Object.fromEntries(Object.entries(sources).map(([k, read]) => [k, read()]));
  return () => {
    const seconds = (performance.now() - wall0) / 1000;
    const own = process.cpuUsage(own0);
    const generator = (own.user + own.system) / 1e6 / seconds;
    const cores: Record<string, number | undefined> = {};
    let known = generator;
    for (const [k, read] of Object.entries(sources)) {
      const end = read();
      const start = per0[k];
      cores[k] = start !== undefined && end !== undefined ? round((end - start) / seconds, 2) : undefined;
      if (!k.startsWith('engine:')) known += cores[k] ?? 0;
    }
    const machine1 = machineBusySeconds();
    const other = machine0 !== undefined && machine1 !== undefined ? round(Math.max(0, (machine1 - machine0) / seconds - known), 2) : undefined;
    return { seconds: round(seconds, 2), ...cores, loadGenerator: round(generator, 2), other } as Record<string, number | undefined>;
  };
}

interface DeliveryLatencyResult {
  ratePerSecond: number;
  warmupS: number;
  durationS: number;
  workflowId: string;
  firstDeliveryMs: number;
  /** Measured window (after the warm-up): requests sent, 202s, errors. */
  sent: number;
  accepted: number;
  errors: number;
  errorSamples: string[];
  /** Accepted events of the measured window that reached the receiver within the settle time. */
  delivered: number;
  missing: number;
  /** …of which arrived after the last post of the window had been answered. */
  arrivedAfterWindow: number;
  settleWaitedS: number;
  /** Every webhook request counted twice or more for one event id (warm-up included). */
  duplicates: number;
  /** 202s per second over the measured window: below the offered rate, the server did not keep up. */
  acceptedPerSecond: number;
  /** Webhooks that reached the receiver before the client had read the event's 202 (negative latency). */
  receivedBefore202: number;
  /** 202 received by the client → body received by the receiver (the target's measure). */
  latencyMs: LatencySummary;
  /** Request due (open-loop schedule) → received by the receiver. */
  dueToReceiptMs: LatencySummary;
  /** Request due → 202 read by the client (ingest latency under this load, client queueing included). */
  acceptMs: LatencySummary;
  /** How late the client handed requests to undici after their due time. */
  clientLagMs: LatencySummary;
  /** Receiver clock minus client clock, before and after the run (subtracted from every sample). */
  clock: { before: ClockOffset; after: ClockOffset };
  cpuCores: Record<string, number | undefined>;
  receiver: ReceiverStats;
}

async function scenarioDeliveryLatency(): Promise<ServerRun<DeliveryLatencyResult>> {
  return withReceiver((receiver) =>
    withTriggersServer('delivery-latency', async (t, mark) => {
      const hook = receiver.url('/hook/latency');
      const workflowId = await createSubscription(t, hook);
      const bodies = deliveryEventBodies(64);
      const firstDeliveryMs = await probeDelivery(t, receiver, bodies[0]);
      log(`  delivery-latency: subscription ${workflowId} (bench.*) → ${hook}; first delivery after ${firstDeliveryMs} ms`);
      const before = await receiver.clockOffset();
      await receiver.reset();

      const rate = settings.deliveryRate;
      const warmupCount = Math.round(settings.warmupS * rate);
      const measuredCount = Math.max(1, Math.round(settings.durationS * rate));
      const total = warmupCount + measuredCount;
      const eventIds: (string | undefined)[] = new Array(total);
      const headers = apiHeaders(t.apiKey);
      log(`  delivery-latency: ${fmtInt(rate)} events/s open-loop (fixed schedule), ${settings.warmupS} s warm-up + ${settings.durationS} s measured…`);
      let meter: ReturnType<typeof cpuMeter> | undefined;
      let fromNs = process.hrtime.bigint();
      const meterTimer = setTimeout(() => {
        fromNs = process.hrtime.bigint();
        meter = cpuMeter({ server: t.serverPid, receiver: receiver.pid });
      }, settings.warmupS * 1000);
      const run = await runOpenLoop({
        origin: t.origin,
        connections: settings.connections,
        ratePerSecond: rate,
        total,
        request: (i) => ({ method: 'POST', path: '/api/v1/events', headers, body: bodies[i % bodies.length] }),
        expectStatus: 202,
        onAccepted: (i, body) => {
          eventIds[i] = (body as { event_id?: string } | undefined)?.event_id;
        },
        signal: abort.signal,
      });
      clearTimeout(meterTimer);
      const cpuCores = meter ? meter() : {};
      mark(fromNs, process.hrtime.bigint());
      checkAborted();

      // Settle: wait (bounded) until every accepted event has reached the receiver.
      const acceptedAll = eventIds.filter(Boolean).length;
      const settleFrom = Date.now();
      let stats = await receiver.stats();
      while (stats.unique < acceptedAll && Date.now() - settleFrom < settings.deliverySettleS * 1000) {
        checkAborted();
        await sleep(100);
        stats = await receiver.stats();
      }
      const settleWaitedS = round((Date.now() - settleFrom) / 1000, 1);
      const after = await receiver.clockOffset();
      const offset = (before.offsetMs + after.offsetMs) / 2;
      const records = await receiver.records();
      const arrival = new Map<string, number>();
      for (let k = 0; k < records.ids.length; k++) arrival.set(records.ids[k], records.times[k] - offset);

      const latency: number[] = [];
      const dueToReceipt: number[] = [];
      const accept: number[] = [];
      const lag: number[] = [];
      let sent = 0;
      let accepted = 0;
      let delivered = 0;
      let missing = 0;
      let late = 0;
      let before202 = 0;
      let lastAnswered = -Infinity;
      const windowEnd = run.lastAnsweredAt;
      for (let i = warmupCount; i < run.issued; i++) {
        sent++;
        lag.push(run.sentAt[i] - run.dueAt[i]);
        const id = eventIds[i];
        if (!id) continue;
        accepted++;
        accept.push(run.answeredAt[i] - run.dueAt[i]);
        lastAnswered = Math.max(lastAnswered, run.answeredAt[i]);
        const at = arrival.get(id);
        if (at === undefined) {
          missing++;
          continue;
        }
        delivered++;
        latency.push(at - run.answeredAt[i]);
        if (at < run.answeredAt[i]) before202++;
        dueToReceipt.push(at - run.dueAt[i]);
        if (at > windowEnd) late++;
      }
      const result: DeliveryLatencyResult = {
        ratePerSecond: rate,
        warmupS: settings.warmupS,
        durationS: settings.durationS,
        workflowId,
        firstDeliveryMs,
        sent,
        accepted,
        errors: sent - accepted,
        errorSamples: run.errorSamples,
        acceptedPerSecond: accepted > 0 && warmupCount < run.issued ? round(accepted / ((lastAnswered - run.dueAt[warmupCount]) / 1000), 1) : 0,
        receivedBefore202: before202,
        delivered,
        missing,
        arrivedAfterWindow: late,
        settleWaitedS,
        duplicates: stats.duplicates,
        latencyMs: summarize(latency),
        dueToReceiptMs: summarize(dueToReceipt),
        acceptMs: summarize(accept),
        clientLagMs: summarize(lag),
        clock: { before, after },
        cpuCores,
        receiver: stats,
      };
      log(
        `  delivery-latency: 202 → receipt p50 ${fmtMs(result.latencyMs.p50)} ms, p99 ${fmtMs(result.latencyMs.p99)} ms, max ${fmtMs(result.latencyMs.max)} ms; ` +
          `${fmtInt(delivered)} of ${fmtInt(accepted)} accepted delivered (${fmtInt(sent)} sent, ${missing} missing after ${settleWaitedS} s, ${late} after the window, ${stats.duplicates} duplicates)`,
      );
      log(`    clock offset receiver−client ${before.offsetMs.toFixed(3)} → ${after.offsetMs.toFixed(3)} ms (round trips ${before.rttMs.toFixed(2)} / ${after.rttMs.toFixed(2)} ms)`);
      for (const e of run.errorSamples) log(`    error: ${e}`);
      return result;
    }),
  );
}

interface DeliveryThroughputResult {
  workflowId: string;
  preload: {
    batchSize: number;
    connections: number;
    seconds: number;
    accepted: number;
    failedRequests: number;
    errorSamples: string[];
    acceptedPerSecond: number;
    /** Deliveries/s at the receiver while events were being posted (after the warm-up). */
    deliveredPerSecond: number;
    deliveredDuring: number;
    stoppedBecause: string;
    cpuCores: Record<string, number | undefined>;
  };
  drain: {
    backlogAtStart: number;
    /** The measured window: warm-up after the last post, then up to `duration` s while a backlog remained. */
    windowS: number;
    deliveries: number;
    deliveriesPerSecond: number;
    perSecondMin: number;
    perSecondMax: number;
    backlogLasted: boolean;
    cpuCores: Record<string, number | undefined>;
  };
  /** The figure compared with the target: the drain rate when the backlog lasted, else the pre-load one. */
  sustainedDeliveriesPerSecond: number;
  sustainedFrom: 'drain' | 'preload';
  delivererConnectionsPeak: number;
  duplicates: number;
  receiver: ReceiverStats;
}

async function scenarioDeliveryThroughput(): Promise<ServerRun<DeliveryThroughputResult & { bareUndici?: LoadResult; bareUndiciError?: string; ratioToBare?: number }>> {
  return withReceiver(async (receiver) => {
    const run = await withTriggersServer('delivery-throughput', async (t, mark): Promise<DeliveryThroughputResult> => {
      const hook = receiver.url('/hook/throughput');
      const workflowId = await createSubscription(t, hook);
      const firstDeliveryMs = await probeDelivery(t, receiver, deliveryEventBodies(1)[0]);
      log(`  delivery-throughput: subscription ${workflowId} (bench.*) → ${hook}; first delivery after ${firstDeliveryMs} ms`);
      const offset = (await receiver.clockOffset()).offsetMs;
      await receiver.reset();

      // 1. Pre-load: post batches as fast as the server takes them until the backlog (accepted but
      //    not yet delivered) would last the drain's warm-up + measurement at the delivery rate
      //    seen so far (× 2.5, since the drain runs without ingest competing for the CPU), and at
      //    least at 6,000 deliveries/s (above the 5,000/s target, so a pass is never cut short).
      const batch = settings.deliveryBatch;
      const connections = Math.min(settings.connections, 16);
      const headers = apiHeaders(t.apiKey);
      const bodies = Array.from({ length: 16 }, (_, v) => deliveryBatchBody(batch, v * batch));
      const windowS = settings.warmupS + settings.durationS;
      const stop = new AbortController();
      const onAbort = () => stop.abort();
      abort.signal.addEventListener('abort', onAbort, { once: true });
      let acceptedSoFar = 0;
      let stoppedBecause = `--delivery-preload ${settings.deliveryPreloadS} s reached`;
      const history: { at: number; delivered: number }[] = [];
      const preloadFrom = wallNow();
      let preloadMeter: ReturnType<typeof cpuMeter> | undefined;
      const meterTimer = setTimeout(() => (preloadMeter = cpuMeter({ server: t.serverPid, receiver: receiver.pid })), settings.warmupS * 1000);
      const poller = setInterval(() => {
        void receiver.stats().then(
          (s) => {
            const now = wallNow();
            history.push({ at: now, delivered: s.unique });
            const old = history.find((h) => h.at >= now - 5000) ?? history[0];
            const rate = now > old.at ? ((s.unique - old.delivered) * 1000) / (now - old.at) : 0;
            const backlog = acceptedSoFar - s.unique;
            const wanted = Math.max(6000 * windowS, 2.5 * rate * windowS);
            if (now - preloadFrom > 3000 && backlog >= wanted && !stop.signal.aborted) {
              stoppedBecause = `backlog ${fmtInt(backlog)} ≥ max(6,000, 2.5 × ${fmtInt(rate)}) deliveries/s × ${windowS} s`;
              stop.abort();
            }
          },
          () => undefined,
        );
      }, 500);
      log(`  delivery-throughput: pre-loading batches of ${batch} at ${connections} connections (≤ ${fmtInt(settings.deliveryMaxEvents)} events, ≤ ${settings.deliveryPreloadS} s)…`);
      let preload: LoadResult;
      try {
        preload = await runLoad({
          origin: t.origin,
          connections,
          totalRequests: Math.ceil(settings.deliveryMaxEvents / batch),
          durationMs: settings.deliveryPreloadS * 1000,
          request: (i) => ({ method: 'POST', path: '/api/v1/events/batch', headers, body: bodies[i % bodies.length] }),
          expectStatus: 202,
          itemsPerRequest: batch,
          serverPid: t.serverPid,
          signal: stop.signal,
          progressEveryMs: 250,
          onProgress: (ok) => {
            acceptedSoFar = ok * batch;
          },
        });
      } finally {
        clearInterval(poller);
        clearTimeout(meterTimer);
        abort.signal.removeEventListener('abort', onAbort);
      }
      checkAborted();
      const preloadTo = wallNow();
      const preloadCpu = preloadMeter ? preloadMeter() : {};
      if (preload.ok * batch >= settings.deliveryMaxEvents) stoppedBecause = `--delivery-max-events ${settings.deliveryMaxEvents} reached`;
      const accepted = preload.ok * batch; // the probe's event arrived before the reset
      const atDrain = await receiver.stats();
      const backlogAtStart = accepted - atDrain.unique;
      log(
        `  delivery-throughput: pre-loaded ${fmtInt(accepted)} events in ${((preloadTo - preloadFrom) / 1000).toFixed(1)} s ` +
          `(${fmtInt(preload.itemsPerSecond)} accepted/s, ${preload.errors} failed requests; stopped: ${stoppedBecause}); backlog ${fmtInt(backlogAtStart)}`,
      );
      for (const e of preload.errorSamples) log(`    error: ${e}`);

      // 2. Drain: the deliveries of the backlog, measured after a warm-up, while it lasts.
      const drainFrom = wallNow();
      const measureFrom = drainFrom + settings.warmupS * 1000;
      const measureTo = measureFrom + settings.durationS * 1000;
      let drainMeter: ReturnType<typeof cpuMeter> | undefined;
      let fromNs = process.hrtime.bigint();
      let toNs: bigint | undefined;
      const stopMeterAt = (s: Awaited<ReturnType<Receiver['stats']>>) => s.unique >= accepted;
      await sleep(Math.max(0, measureFrom - wallNow()));
      if ((await receiver.stats()).unique < accepted) {
        fromNs = process.hrtime.bigint();
        drainMeter = cpuMeter({ server: t.serverPid, receiver: receiver.pid });
        log(`  delivery-throughput: measuring deliveries for up to ${settings.durationS} s while the backlog lasts…`);
        while (wallNow() < measureTo) {
          checkAborted();
          if (stopMeterAt(await receiver.stats())) break;
          await sleep(Math.min(100, Math.max(0, measureTo - wallNow())));
        }
        toNs = process.hrtime.bigint();
      }
      const drainCpu = drainMeter ? drainMeter() : {};
      if (toNs) mark(fromNs, toNs);
      const times = await receiver.times(); // receiver clock
      const final = await receiver.stats();
      // In the client's clock. The backlog "runs out" when fewer than 256 deliveries remain
      // (the deliverer works on up to 128 at once, and the matcher on 64 events).
      const arrivals = times.map((x) => x - offset);
      const exhaustedAt = accepted - 256 >= 0 && accepted - 256 < arrivals.length ? arrivals[accepted - 256] : Infinity;
      const windowEnd = Math.min(measureTo, exhaustedAt, wallNow());
      const drainRate = rateBetween(arrivals, measureFrom, windowEnd);
      const drainWindowS = Math.max(0, (windowEnd - measureFrom) / 1000);
      const buckets = perSecondBuckets(arrivals, measureFrom, windowEnd);
      const backlogLasted = exhaustedAt >= measureTo && drainWindowS >= settings.durationS * 0.95;
      const during = rateBetween(arrivals, preloadFrom + settings.warmupS * 1000, preloadTo);
      const useDrain = drainWindowS >= Math.min(2, settings.durationS);
      const result: DeliveryThroughputResult = {
        workflowId,
        preload: {
          batchSize: batch,
          connections,
          seconds: round((preloadTo - preloadFrom) / 1000, 1),
          accepted,
          failedRequests: preload.errors,
          errorSamples: preload.errorSamples,
          acceptedPerSecond: preload.itemsPerSecond,
          deliveredPerSecond: round(during.perSecond, 1),
          deliveredDuring: during.count,
          stoppedBecause,
          cpuCores: preloadCpu,
        },
        drain: {
          backlogAtStart,
          windowS: round(drainWindowS, 2),
          deliveries: drainRate.count,
          deliveriesPerSecond: round(drainRate.perSecond, 1),
          perSecondMin: buckets.length ? Math.min(...buckets) : 0,
          perSecondMax: buckets.length ? Math.max(...buckets) : 0,
          backlogLasted,
          cpuCores: drainCpu,
        },
        sustainedDeliveriesPerSecond: round(useDrain ? drainRate.perSecond : during.perSecond, 1),
        sustainedFrom: useDrain ? 'drain' : 'preload',
        delivererConnectionsPeak: final.connections.peak,
        duplicates: final.duplicates,
        receiver: final,
      };
      log(
        `  delivery-throughput: drain ${fmtInt(result.drain.deliveriesPerSecond)} deliveries/s over ${result.drain.windowS} s ` +
          `(1-s buckets ${fmtInt(result.drain.perSecondMin)}–${fmtInt(result.drain.perSecondMax)}; backlog ${backlogLasted ? 'lasted' : 'ran out'}); ` +
          `while posting ${fmtInt(result.preload.deliveredPerSecond)} deliveries/s; deliverer used ≤ ${final.connections.peak} connections`,
      );
      return result;
    });

    // 3. The same receiver driven by a bare undici client (no Triggers server running now).
    const connections = settings.deliveryConnections ?? (run.result.delivererConnectionsPeak > 0 ? run.result.delivererConnectionsPeak : 128);
    await receiver.reset();
    const [head, tail] = webhookBodyParts(1);
    let n = 0;
    const bareHeaders = {
      'content-type': 'application/json',
      'user-agent': 'Zapier-Triggers-API/1.0',
      'webhook-id': 'msg_0190f5c8000070008000000000000000',
      'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
      'webhook-signature': 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
    };
    let bareUndici: LoadResult | undefined;
    let bareUndiciError: string | undefined;
    try {
      bareUndici = await warmAndMeasure(
        'bare-undici',
        receiver.origin,
        () => ({ method: 'POST', path: '/hook/bare', headers: bareHeaders, body: `${head}00000000-0000-7000-8000-${String(n++).padStart(12, '0')}${tail}` }),
        200,
        1,
        receiver.pid,
        undefined,
        connections,
      );
    } catch (error) {
      bareUndiciError = error instanceof Error ? error.message : String(error);
      log(`  bare-undici FAILED: ${bareUndiciError}`);
    }
    const ratioToBare = bareUndici && bareUndici.requestsPerSecond > 0 ? round(run.result.sustainedDeliveriesPerSecond / bareUndici.requestsPerSecond, 3) : undefined;
    if (ratioToBare !== undefined) log(`  delivery-throughput: ${fmtInt(run.result.sustainedDeliveriesPerSecond)} deliveries/s / ${fmtInt(bareUndici!.requestsPerSecond)} bare undici req/s = ${ratioToBare.toFixed(3)}`);
    return { ...run, result: { ...run.result, bareUndici, bareUndiciError, ratioToBare } };
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

/** The commit measured, and whether the server's code differs from it (uncommitted changes outside bench/ and docs/). */
function sourceInfo(): { commit?: string; changedFiles?: string[]; text: string } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const changedFiles = execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .map((l) => l.slice(3).trim())
      .filter((f) => f && !/^(bench|docs)\//.test(f));
    return { commit, changedFiles, text: `commit ${commit}${changedFiles.length ? ` + uncommitted changes in ${changedFiles.length} file(s) of the server` : ' (server code unmodified)'}` };
  } catch {
    return { text: 'not a git checkout' };
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
  const source = sourceInfo();
  log(`Triggers benchmark — ${machine.cpus}× ${machine.cpuModel}, Node ${machine.node}, ${machine.platform}; ${source.text}`);
  log(
    `duration ${settings.durationS} s (+${settings.warmupS} s warm-up), ${settings.connections} connections, scenarios ${settings.scenarios.join(',')}` +
      (settings.url ? `, target ${settings.url}` : ', servers started per scenario'),
  );
  let engines: string[] = [];
  if (!settings.url) {
    log(`backends: ${preset.name} — ${preset.describe}`);
    if (preset.engines.length > 0) {
      const resolved = await resolveEngines(preset, ROOT);
      engineAddresses = resolved.addresses;
      engines = resolved.lines;
      for (const line of engines) log(`  ${line}`);
      const byEngine = Object.entries(enginePorts(resolved.addresses)).map(([name, ports]) => ({
        name,
        roots: [...new Set(ports!.flatMap((port) => listeningPids(port)))],
      }));
      const roots = [...new Set(byEngine.flatMap((e) => e.roots))];
      if (roots.length > 0) {
        engineCpu = () => treeCpuSeconds(roots);
        for (const e of byEngine) if (e.roots.length > 0) engineCpuByName[e.name] = () => treeCpuSeconds(e.roots);
        log(`  engine processes (CPU reported as "engine CPU"): ${byEngine.map((e) => `${e.name} ${e.roots.join(',') || '?'}`).join('; ')}`);
      }
    }
  }

  const scenarios: Record<string, unknown> = {};
  const failures: Record<string, string> = {};
  const profiles: Record<string, ProfileSummary | string> = {};
  let ingest: LoadResult | undefined;
  let batch: LoadResult | undefined;
  let bare: LoadResult | undefined;
  let inbox: Awaited<ReturnType<typeof scenarioInbox>>['result'] | undefined;
  let latency: DeliveryLatencyResult | undefined;
  let throughput: Awaited<ReturnType<typeof scenarioDeliveryThroughput>>['result'] | undefined;

  for (const scenario of settings.scenarios) {
    if (abort.signal.aborted) break;
    log(`\n[${scenario}]`);
    try {
      if (scenario === 'bare') {
        bare = await scenarioBare();
        scenarios.bare = bare;
        continue;
      }
      const run: ServerRun<unknown> =
        scenario === 'ingest'
          ? await scenarioIngest()
          : scenario === 'batch'
            ? await scenarioBatch()
            : scenario === 'inbox'
              ? await scenarioInbox()
              : scenario === 'delivery-latency'
                ? await scenarioDeliveryLatency()
                : await scenarioDeliveryThroughput();
      scenarios[scenario] = { ...(run.result as object), serverStartupMs: run.startupMs };
      if (scenario === 'ingest') ingest = run.result as LoadResult;
      if (scenario === 'batch') batch = run.result as LoadResult;
      if (scenario === 'inbox') inbox = run.result as typeof inbox;
      if (scenario === 'delivery-latency') latency = run.result as DeliveryLatencyResult;
      if (scenario === 'delivery-throughput') throughput = run.result as typeof throughput;
      if (run.profile) {
        profiles[scenario] = run.profile;
        log(`  main thread:\n${formatProfileSummary(run.profile, 20).replace(/^/gm, '  ')}`);
        for (const { thread, summary } of run.threadProfiles ?? []) {
          profiles[`${scenario} ${thread}`] = summary;
          log(`  worker ${thread}:\n${formatProfileSummary(summary, 20).replace(/^/gm, '  ')}`);
        }
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
      ...(engineCpu ? [r.engineCpuCores !== undefined ? r.engineCpuCores.toFixed(2) : '-'] : []),
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
  out.push(`code: ${source.text}`);
  out.push(`load: undici Pool, ${settings.connections} connections, pipelining 1, ${settings.durationS} s measured after ${settings.warmupS} s warm-up, all on 127.0.0.1`);
  if (!settings.url) out.push(`backends: ${preset.name}${engines.length ? ` (${engines.join('; ')})` : ''}`);
  out.push('');
  if (loadRows.length) {
    out.push(table(['scenario', 'req/s', 'events/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors', 'srv CPU', 'gen CPU', ...(engineCpu ? ['engine CPU'] : []), 'other CPU'], loadRows));
    out.push(`(CPU in cores during the measurement: the server process, the load generator, ${engineCpu ? "the engines' processes, " : ''}everything else on the machine)`);
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

  const cores = (c: Record<string, number | undefined> | undefined, k: string) => (c?.[k] !== undefined ? c[k]!.toFixed(2) : '-');
  if (latency) {
    const l = latency;
    out.push(
      `delivery-latency: ${fmtInt(l.ratePerSecond)} events/s open-loop, ${l.durationS} s measured after ${l.warmupS} s warm-up; ` +
        `${fmtInt(l.sent)} sent, ${fmtInt(l.accepted)} accepted (202; ${fmtInt(l.acceptedPerSecond)}/s), ${fmtInt(l.delivered)} delivered (${fmtInt(l.receivedBefore202)} before the client had read the 202), ${fmtInt(l.missing)} missing after a ${l.settleWaitedS} s settle, ` +
        `${fmtInt(l.arrivedAfterWindow)} arrived after the window, ${fmtInt(l.duplicates)} duplicates`,
    );
    const row = (name: string, s: LatencySummary) => [name, fmtMs(s.min), fmtMs(s.p50), fmtMs(s.p90), fmtMs(s.p99), fmtMs(s.p999), fmtMs(s.max)];
    out.push(
      table(
        ['delivery latency (ms)', 'min', 'p50', 'p90', 'p99', 'p99.9', 'max'],
        [row('202 received → webhook received', l.latencyMs), row('request due → webhook received', l.dueToReceiptMs), row('request due → 202 received', l.acceptMs), row('client send lag', l.clientLagMs)],
      ),
    );
    out.push(
      `(receiver clock − client clock ${l.clock.before.offsetMs.toFixed(3)} / ${l.clock.after.offsetMs.toFixed(3)} ms before/after, subtracted; ` +
        `CPU cores: server ${cores(l.cpuCores, 'server')}, receiver ${cores(l.cpuCores, 'receiver')}, load generator ${cores(l.cpuCores, 'loadGenerator')}, ${engineCpu ? `engines ${cores(l.cpuCores, 'engines')} (${Object.keys(engineCpuByName).map((n) => `${n} ${cores(l.cpuCores, `engine:${n}`)}`).join(', ')}), ` : ''}other ${cores(l.cpuCores, 'other')})`,
    );
    if ((l.cpuCores.other ?? 0) > 0.25) out.push('WARNING: other processes used CPU during the delivery-latency run: the figures are disturbed.');
    out.push('');
  }
  if (throughput) {
    const r = throughput;
    const rows: string[][] = [
      [
        `pre-load: batches of ${r.preload.batchSize} at ${r.preload.connections} conn, ${r.preload.seconds} s`,
        `${fmtInt(r.preload.acceptedPerSecond)} accepted/s`,
        `${fmtInt(r.preload.deliveredPerSecond)}`,
        cores(r.preload.cpuCores, 'server'),
        cores(r.preload.cpuCores, 'receiver'),
        cores(r.preload.cpuCores, 'loadGenerator'),
        ...(engineCpu ? [cores(r.preload.cpuCores, 'engines')] : []),
        cores(r.preload.cpuCores, 'other'),
      ],
      [
        `drain: backlog ${fmtInt(r.drain.backlogAtStart)}, ${r.drain.windowS} s${r.drain.backlogLasted ? '' : ' (backlog ran out)'}`,
        `1-s ${fmtInt(r.drain.perSecondMin)}–${fmtInt(r.drain.perSecondMax)}`,
        `${fmtInt(r.drain.deliveriesPerSecond)}`,
        cores(r.drain.cpuCores, 'server'),
        cores(r.drain.cpuCores, 'receiver'),
        cores(r.drain.cpuCores, 'loadGenerator'),
        ...(engineCpu ? [cores(r.drain.cpuCores, 'engines')] : []),
        cores(r.drain.cpuCores, 'other'),
      ],
    ];
    if (r.bareUndici) {
      const b = r.bareUndici;
      rows.push([
        `bare undici → receiver, ${b.connections} conn, ${b.durationS.toFixed(0)} s`,
        `p50 ${fmtMs(b.latencyMs.p50)} p99 ${fmtMs(b.latencyMs.p99)} ms`,
        `${fmtInt(b.requestsPerSecond)}`,
        '-',
        b.serverCpuCores !== undefined ? b.serverCpuCores.toFixed(2) : '-',
        b.loadGeneratorCpuCores.toFixed(2),
        ...(engineCpu ? [b.engineCpuCores !== undefined ? b.engineCpuCores.toFixed(2) : '-'] : []),
        b.otherCpuCores !== undefined ? b.otherCpuCores.toFixed(2) : '-',
      ]);
    }
    out.push(table(['delivery-throughput', '', 'deliveries/s', 'srv CPU', 'rcv CPU', 'gen CPU', ...(engineCpu ? ['eng CPU'] : []), 'other CPU'], rows));
    out.push(
      `sustained: ${fmtInt(r.sustainedDeliveriesPerSecond)} deliveries/s (${r.sustainedFrom === 'drain' ? 'drain of the backlog, no ingest' : 'while posting: the backlog did not last the drain window'}); ` +
        `deliverer connections to the receiver ≤ ${r.delivererConnectionsPeak}; ${fmtInt(r.duplicates)} duplicates` +
        (r.ratioToBare !== undefined ? `; delivery / bare undici = ${r.ratioToBare.toFixed(3)}` : r.bareUndiciError ? `; bare undici failed: ${r.bareUndiciError}` : ''),
    );
    const byEngine = (c: Record<string, number | undefined>) =>
      Object.entries(c)
        .filter(([k]) => k.startsWith('engine:'))
        .map(([k, v]) => `${k.slice(7)} ${v !== undefined ? v.toFixed(2) : '-'}`)
        .join(', ');
    if (engineCpu) out.push(`engine CPU by engine (cores): pre-load ${byEngine(r.preload.cpuCores)}; drain ${byEngine(r.drain.cpuCores)}`);
    const noisy = [r.preload.cpuCores.other, r.drain.cpuCores.other, r.bareUndici?.otherCpuCores].some((o) => (o ?? 0) > 0.25);
    if (noisy) out.push('WARNING: other processes used CPU during the delivery-throughput run (see "other CPU"): the figures are disturbed.');
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
  if (latency) {
    const at = `at ${fmtInt(latency.ratePerSecond)} events/s`;
    const valid = latency.ratePerSecond >= 1000;
    targets.push({ target: `end-to-end 202 → receipt p50 ≤ 10 ms (${at})`, measured: `${fmtMs(latency.latencyMs.p50)} ms`, pass: valid ? latency.latencyMs.p50 <= 10 : null });
    targets.push({ target: `end-to-end 202 → receipt p99 ≤ 100 ms (${at})`, measured: `${fmtMs(latency.latencyMs.p99)} ms`, pass: valid ? latency.latencyMs.p99 <= 100 : null });
    targets.push({
      target: 'every accepted event delivered (within the settle time)',
      measured: `${fmtInt(latency.delivered)} / ${fmtInt(latency.accepted)}${latency.errors ? `, ${fmtInt(latency.errors)} posts failed` : ''}`,
      pass: latency.missing === 0 && latency.errors === 0,
    });
  }
  if (throughput) {
    targets.push({ target: '≥ 5,000 deliveries/s sustained', measured: fmtInt(throughput.sustainedDeliveriesPerSecond), pass: throughput.sustainedDeliveriesPerSecond >= 5000 });
    if (throughput.ratioToBare !== undefined) {
      targets.push({ target: `deliveries/s ≥ 0.40 × bare undici (${throughput.bareUndici!.connections} conn)`, measured: throughput.ratioToBare.toFixed(3), pass: throughput.ratioToBare >= 0.4 });
    }
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
    source,
    settings: { ...settings, adminToken: undefined, loadGenerator: 'undici Pool, pipelining 1' },
    backends: settings.url ? undefined : { preset: preset.name, describe: preset.describe, choice: preset.choice, engines },
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
