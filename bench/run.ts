/**
 * `npm run bench [-- flags]`: load tests of the Triggers API against its targets.
 *
 * Every measurement starts its own server in a child process (the all-in-one, embedded SQLite —
 * or the engines of --backends — fresh data, 127.0.0.1, a free port), creates a customer through
 * the admin API, warms up, then drives it from this process with an undici Pool (64 connections,
 * pipelining 1) for a fixed time. The delivery scenarios add a webhook receiver in a child process
 * of its own (bench/receiver.ts). Results are printed as tables and written to
 * bench/results/latest.json. Run with --help for the flags.
 *
 * This file is the command line only: flags, the lifecycle of the child processes, the loop over
 * the scenarios (bench/scenarios/<name>.ts, one file each) and the results file.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { killAllChildrenSync, listeningPids, liveChildren, treeCpuSeconds } from './lib/children.ts';
import { round } from './lib/load.ts';
import { BACKEND_PRESETS, enginePorts, resolveEngines, type BackendPreset } from './lib/backends.ts';
import { formatProfileSummary, type ProfileSummary } from './lib/cpuprofile.ts';
import { ADMIN_TOKEN, MAX_BATCH, type BenchContext, type BenchSettings } from './lib/context.ts';
import { machineInfo, sourceInfo } from './lib/machine.ts';
import { formatReport, loadGeneratorText, type ScenarioResults } from './lib/report.ts';
import { TASKSET, wrkMissing } from './lib/wrk.ts';
import type { ServerRun } from './lib/servers.ts';
import { ALL_SCENARIOS, SCENARIOS, type ScenarioName } from './scenarios/index.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS_DIR = path.join(ROOT, 'bench', 'results');

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
  --memory-events N     memory: events stored before the load (default 1000000)
  --memory-burst-s S    memory: seconds of the burst (default 60) …
  --memory-burst-rate N …at this many events/s offered (default 5000)
  --memory-soak-s S     memory: seconds of the soak (default 600) …
  --memory-soak-rate N  …at this many events/s offered (default 1000)
  --delivery-connections N  delivery-throughput: connections of the bare undici client (default:
                        the most the deliverer had open to the receiver during the run)
  --steady-rate N       steady: events/s posted open-loop, every one matched (default 5000)
  --steady-duration S   steady: seconds of load (default 60); the backlog is read at its end and
                        the rest waited for up to --delivery-settle S
  --steady-history N    steady: store N unmatched events (batches of 100) and let them settle
                        before the load, as on a server with history (default 0)
  --trace-rounds N      ingest-traced: groups of its three fresh servers (default 4); with
                        --trace-cycles 0 or --trace-rate, rounds of them one after another
  --trace-cycles N      ingest-traced: in each group the three servers run side by side, loaded
                        in turn for N cycles of one slice each, the order rotating (default 10;
                        0: the servers one after another instead, --duration s each)
  --trace-slice S       ingest-traced: seconds of one slice (default 2)
  --trace-warmup S      ingest-traced: warm-up of each server before the cycles (default 8)
  --trace-rate N        ingest-traced: offer N events/s open loop, below saturation, instead of
                        the closed loop (a diagnostic: tracing's cost at equal work; the ≤ 10 %
                        target is judged on the closed loop, default 0)
  --backends NAME       run the started servers on real engines (started beforehand with
                        scripts/engines/*.sh; see docs/backends.md): ${Object.keys(BACKEND_PRESETS).join(', ')}
                        (default sqlite: the embedded mode)
  --url URL             use an already-running server (127.0.0.1/localhost only) instead of
                        starting one; needs --admin-token (or TRIGGERS_ADMIN_TOKEN)
  --admin-token TOKEN   admin token for --url
  --pin                 pin each started server (Triggers, bare node:http) to one CPU and this
                        process, the load generator and the webhook receiver to another, with
                        taskset (the same one-core budget for Triggers and bare node:http);
                        implies --load-generator wrk
  --pin-cpus S,L        CPU lists for --pin: server S, everything else L (default 0,1)
  --load-generator G    undici (in this process, the default) or wrk (Debian's /usr/bin/wrk, the
                        default with --pin) for ingest, ingest-traced, batch and bare
  --wrk-threads N       wrk threads (default 1)
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
    'memory-events': { type: 'string', default: '1000000' },
    'memory-burst-s': { type: 'string', default: '60' },
    'memory-burst-rate': { type: 'string', default: '5000' },
    'memory-soak-s': { type: 'string', default: '600' },
    'memory-soak-rate': { type: 'string', default: '1000' },
    'delivery-connections': { type: 'string' },
    'steady-rate': { type: 'string', default: '5000' },
    'steady-duration': { type: 'string', default: '60' },
    'steady-history': { type: 'string', default: '0' },
    'trace-rounds': { type: 'string', default: '4' },
    'trace-cycles': { type: 'string', default: '10' },
    'trace-slice': { type: 'string', default: '2' },
    'trace-warmup': { type: 'string', default: '8' },
    'trace-rate': { type: 'string', default: '0' },
    backends: { type: 'string', default: 'sqlite' },
    url: { type: 'string' },
    'admin-token': { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    pin: { type: 'boolean', default: false },
    'pin-cpus': { type: 'string', default: '0,1' },
    'load-generator': { type: 'string' },
    'wrk-threads': { type: 'string', default: '1' },
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

/** "S,L" → taskset CPU lists for the servers and for the rest; each a CPU number or a range (e.g. 0 or 2-3). */
function pinCpus(value: string): { server: string; load: string } {
  const parts = value.split(',');
  if (parts.length !== 2 || !parts.every((p) => /^\d+(-\d+)?$/.test(p.trim()))) {
    process.stderr.write(`--pin-cpus: expected SERVER,LOAD (e.g. 0,1 or 0-1,2-3), got ${JSON.stringify(value)}\n`);
    process.exit(2);
  }
  return { server: parts[0].trim(), load: parts[1].trim() };
}

const settings: BenchSettings = {
  durationS: num('duration', flags.duration!, 0.1),
  warmupS: num('warmup', flags.warmup!, 0),
  connections: Math.floor(num('connections', flags.connections!, 1, 10_000)),
  scenarios: flags.scenarios!.split(',').map((s) => s.trim()).filter(Boolean),
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
  memoryEvents: Math.floor(num('memory-events', flags['memory-events']!, 1)),
  memoryBurstS: num('memory-burst-s', flags['memory-burst-s']!, 1),
  memoryBurstRate: num('memory-burst-rate', flags['memory-burst-rate']!, 1, 100_000),
  memorySoakS: num('memory-soak-s', flags['memory-soak-s']!, 1),
  memorySoakRate: num('memory-soak-rate', flags['memory-soak-rate']!, 1, 100_000),
  deliveryConnections: flags['delivery-connections'] !== undefined ? Math.floor(num('delivery-connections', flags['delivery-connections'], 1, 10_000)) : undefined,
  steadyRate: num('steady-rate', flags['steady-rate']!, 1, 100_000),
  steadyDurationS: num('steady-duration', flags['steady-duration']!, 1),
  steadyHistory: Math.floor(num('steady-history', flags['steady-history']!, 0)),
  traceRounds: Math.floor(num('trace-rounds', flags['trace-rounds']!, 1, 50)),
  traceCycles: Math.floor(num('trace-cycles', flags['trace-cycles']!, 0, 1000)),
  traceSliceS: Math.floor(num('trace-slice', flags['trace-slice']!, 1, 600)),
  traceWarmupS: Math.floor(num('trace-warmup', flags['trace-warmup']!, 1, 600)),
  traceRate: num('trace-rate', flags['trace-rate']!, 0, 100_000),
  backends: flags.backends!,
  url: flags.url?.replace(/\/+$/, ''),
  cpuProf: flags['cpu-prof']!,
  loadGenerator: (flags['load-generator'] ?? (flags.pin ? 'wrk' : 'undici')) as 'undici' | 'wrk',
  wrkThreads: Math.floor(num('wrk-threads', flags['wrk-threads']!, 1, 64)),
  pin: flags.pin ? pinCpus(flags['pin-cpus']!) : undefined,
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
if (settings.loadGenerator !== 'undici' && settings.loadGenerator !== 'wrk') {
  process.stderr.write(`--load-generator: expected undici or wrk, got ${JSON.stringify(settings.loadGenerator)}\n`);
  process.exit(2);
}
{
  const missing = settings.loadGenerator === 'wrk' || settings.pin ? wrkMissing(settings.pin !== undefined) : undefined;
  if (missing) {
    process.stderr.write(
      `${settings.pin ? '--pin' : '--load-generator wrk'} needs wrk${settings.pin ? ' and taskset' : ''}: ${missing}. ` +
        `Without them, run without ${settings.pin ? '--pin' : '--load-generator wrk'} (undici client, unpinned).\n`,
    );
    process.exit(2);
  }
}
if (settings.pin) {
  if (settings.url) {
    process.stderr.write('--pin applies to the servers the bench starts; it cannot be combined with --url\n');
    process.exit(2);
  }
  // This process (the undici client of the other scenarios) and its children that are not servers
  // under test (wrk, the webhook receiver) run on the load CPUs; the servers on theirs.
  try {
    execFileSync(TASKSET, ['-a', '-p', '-c', settings.pin.load, String(process.pid)], { stdio: 'ignore' });
  } catch (error) {
    process.stderr.write(`--pin: taskset -a -p -c ${settings.pin.load} ${process.pid} failed (${error instanceof Error ? error.message : String(error)}); does this machine have CPUs ${settings.pin.server} and ${settings.pin.load}? (nproc: ${os.availableParallelism()})\n`);
    process.exit(2);
  }
}
if (settings.url && preset.name !== 'sqlite') {
  process.stderr.write('--backends applies to the servers the bench starts; it cannot be combined with --url\n');
  process.exit(2);
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

const ctx: BenchContext = {
  root: ROOT,
  resultsDir: RESULTS_DIR,
  settings,
  preset,
  adminToken,
  signal: abort.signal,
  checkAborted,
  log,
  tempDirs,
  engineCpuByName: {},
};

async function main(): Promise<number> {
  const startedAt = new Date().toISOString();
  const machine = machineInfo(ctx);
  const source = sourceInfo(ROOT);
  log(`Triggers benchmark — ${machine.cpus}× ${machine.cpuModel}, Node ${machine.node}, ${machine.platform}; ${source.text}`);
  log(`load: ${loadGeneratorText(ctx)}`);
  log(
    `duration ${settings.durationS} s (+${settings.warmupS} s warm-up), ${settings.connections} connections, scenarios ${settings.scenarios.join(',')}` +
      (settings.url ? `, target ${settings.url}` : ', servers started per scenario'),
  );
  let engines: string[] = [];
  if (!settings.url) {
    log(`backends: ${preset.name} — ${preset.describe}`);
    if (preset.engines.length > 0) {
      const resolved = await resolveEngines(preset, ROOT);
      ctx.engineAddresses = resolved.addresses;
      engines = resolved.lines;
      for (const line of engines) log(`  ${line}`);
      const byEngine = Object.entries(enginePorts(resolved.addresses)).map(([name, ports]) => ({
        name,
        roots: [...new Set(ports!.flatMap((port) => listeningPids(port)))],
      }));
      const roots = [...new Set(byEngine.flatMap((e) => e.roots))];
      if (roots.length > 0) {
        ctx.engineCpu = () => treeCpuSeconds(roots);
        for (const e of byEngine) if (e.roots.length > 0) ctx.engineCpuByName[e.name] = () => treeCpuSeconds(e.roots);
        log(`  engine processes (CPU reported as "engine CPU"): ${byEngine.map((e) => `${e.name} ${e.roots.join(',') || '?'}`).join('; ')}`);
      }
    }
  }

  const scenarios: Record<string, unknown> = {};
  const failures: Record<string, string> = {};
  const profiles: Record<string, ProfileSummary | string> = {};
  const measured: ScenarioResults = {};

  for (const scenario of settings.scenarios as ScenarioName[]) {
    if (abort.signal.aborted) break;
    log(`\n[${scenario}]`);
    try {
      const run: ServerRun<unknown> = await SCENARIOS[scenario](ctx);
      scenarios[scenario] = { ...(run.result as object), serverStartupMs: run.startupMs };
      (measured as Record<string, unknown>)[scenario] = run.result;
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

  const { text, ratio, targets } = formatReport(ctx, { startedAt, machine, source, engines, results: measured, failures });
  process.stdout.write(text);

  machine.loadAverageAtEnd = os.loadavg().map((n) => round(n, 2));
  const results = {
    startedAt,
    finishedAt: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine,
    source,
    settings: { ...settings, adminToken: undefined, loadGeneratorDetail: loadGeneratorText(ctx) },
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