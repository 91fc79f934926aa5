/**
 * `scale-out` (issue 13, item 4): do the distributed services scale out? On real engines, the
 * services run as separate processes (services/<name>/src/main.ts, as the multi-process e2e tests
 * start them), and each is measured with one process, then two, in the same run:
 *
 * 1. ingest ×1 then ×2: single-event `POST /api/v1/events` (bench.* events, closed loop at
 *    --connections, split evenly over the ingest processes). No matcher or deliverer runs yet, so
 *    the accepted events wait in the `events` queue: the matcher's backlog, topped up to 30,000
 *    events by batch requests.
 * 2. matcher ×1 then ×2 (the second started after the first window): events matched per second,
 *    from the processes' `triggers_matcher_events_total`. Each event matches one subscription, so
 *    the matchers fill the `deliveries` queue: the deliverer's backlog. The matchers are then stopped.
 * 3. deliverer ×1 then ×2: webhooks per second at a receiver in its own process.
 *
 * The events are CUSTOMERS customers' in turn, each with one subscription, so the events and the
 * deliveries spread over the partitions that the matchers and the deliverers share.
 *
 * A factor is the rate with two processes over the rate with one. Each window is --warmup s (after
 * the new process answers /health) then --duration s. CPU (cores) of every service process and of
 * each engine's process tree (from /proc) is read over each window, to say which engine limits the
 * scaling. The whole sequence runs on the --backends preset when it is a distributed one, else on
 * both postgres-redis-kafka and dynamodb-sqs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prepareBackends } from '@triggers/testkit';
import { freePort, listeningPids, machineBusySeconds, processCpuSeconds, spawnChild, treeCpuSeconds, waitForHealth, type Child } from '../lib/children.ts';
import { BACKEND_PRESETS, enginePorts, resolveEngines, type BackendPreset } from '../lib/backends.ts';
import { round, runLoad, type LoadResult } from '../lib/load.ts';
import { deliveryBatchBody, deliveryEventBodies } from '../lib/payloads.ts';
import { apiHeaders, probe } from '../lib/measure.ts';
import { createCustomer, serverEnv, type ServerRun } from '../lib/servers.ts';
import { createSubscription, sleep, withReceiver } from '../lib/delivery.ts';
import { fmtInt } from '../lib/stats.ts';
import type { Receiver } from '../lib/receiver-client.ts';
import type { BenchContext } from '../lib/context.ts';
import type { TargetCheck } from '../lib/report.ts';

type Service = 'ingest' | 'matcher' | 'deliverer';
const SERVICES: Service[] = ['ingest', 'matcher', 'deliverer'];

export interface ScaleWindow {
  processes: number;
  /** Events accepted (ingest), matched (matcher) or delivered (deliverer) per second. */
  perSecond: number;
  seconds: number;
  /** CPU in cores over the window: each process of the service, each engine, everything else. */
  cpu: { processes: number[]; engines: Record<string, number | undefined>; other?: number };
  /** Whether the backlog lasted the whole window (matcher, deliverer): else the rate is a floor. */
  backlogLasted: boolean;
  errors?: number;
}

export interface ScaleOutPresetResult {
  preset: string;
  describe: string;
  services: Record<Service, { one: ScaleWindow; two: ScaleWindow; factor: number | null }>;
  /** The engine that used the most CPU in each two-process window. */
  busiestEngine: Record<Service, string | undefined>;
}

export interface ScaleOutResult {
  presets: ScaleOutPresetResult[];
  summary: string[];
  targets: TargetCheck[];
}

const DISTRIBUTED = ['postgres-redis-kafka', 'dynamodb-sqs'];
/**
 * Customers sharing the load in turn, each with one subscription. On Kafka `events` are keyed by
 * customer and `deliveries` by subscription: one of each put the whole backlog on one partition,
 * so a second matcher or deliverer had nothing to do. 24 spread over the topics' partitions (6 by
 * default), each subscription still within its 16 requests in flight
 * (TRIGGERS_DELIVERER_MAX_PER_SUBSCRIPTION).
 */
const CUSTOMERS = 24;
/** Events queued for the matcher before its windows (ingest's own, topped up by batches). */
const BACKLOG = 30_000;

export async function runScaleOut(ctx: BenchContext): Promise<ServerRun<ScaleOutResult>> {
  if (ctx.settings.url) throw new Error('scale-out starts its own service processes; it cannot measure --url');
  const presets: BackendPreset[] = ctx.preset.name === 'sqlite' ? DISTRIBUTED.map((n) => BACKEND_PRESETS[n]) : [ctx.preset];
  const results: ScaleOutPresetResult[] = [];
  const failures: string[] = [];
  await withReceiver(ctx, async (receiver) => {
    for (const preset of presets) {
      ctx.checkAborted();
      ctx.log(`  scale-out on ${preset.name}: ${preset.describe}`);
      try {
        results.push(await measurePreset(ctx, preset, receiver));
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        const message = error instanceof Error ? error.message : String(error);
        failures.push(`${preset.name}: ${message}`);
        ctx.log(`  scale-out on ${preset.name} FAILED: ${message}`);
      }
    }
  });
  if (results.length === 0) throw new Error(failures.join('; '));
  return { result: summarise(ctx, results, failures) };
}

interface Proc {
  service: Service | 'inbox';
  child: Child;
  origin: string;
  /** A stopped matcher's last counter reading. */
  lastCount?: number;
}

async function measurePreset(ctx: BenchContext, preset: BackendPreset, receiver: Receiver): Promise<ScaleOutPresetResult> {
  const addresses = ctx.preset.name === preset.name && ctx.engineAddresses ? ctx.engineAddresses : (await resolveEngines(preset, ctx.root)).addresses;
  const engineCpu: Record<string, () => number | undefined> = {};
  for (const [name, ports] of Object.entries(enginePorts(addresses))) {
    const roots = [...new Set(ports!.flatMap((port) => listeningPids(port)))];
    if (roots.length > 0) engineCpu[name] = () => treeCpuSeconds(roots);
  }
  const prepared = await prepareBackends(preset.choice, addresses, 'bench-scale');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'triggers-bench-scale-'));
  ctx.tempDirs.add(dataDir);
  const procs: Proc[] = [];
  const start = async (service: Proc['service'], index: number): Promise<Proc> => {
    const port = await freePort();
    const child = spawnChild(`${service}-${index}`, ['--import', 'tsx', '--import', './bench/lib/exit-with-parent.mjs', `services/${service}/src/main.ts`], {
      cwd: ctx.root,
      env: serverEnv(ctx, port, dataDir, prepared.env),
      echo: ctx.settings.echo,
    });
    const proc: Proc = { service, child, origin: `http://127.0.0.1:${port}` };
    procs.push(proc);
    const ms = await waitForHealth(proc.origin, child, 180_000, ctx.signal);
    ctx.log(`    ${service} #${index} up on ${proc.origin} (pid ${child.pid}, ${ms} ms)`);
    return proc;
  };
  const of = (service: Service) => procs.filter((p) => p.service === service && !p.child.exited);
  /** CPU (cores) of `pids`, each engine and everything else, from now until the returned function is called. */
  const meter = (pids: number[]) => {
    const wall0 = performance.now();
    const read = () => ({ procs: pids.map((pid) => processCpuSeconds(pid)), engines: Object.fromEntries(Object.entries(engineCpu).map(([k, f]) => [k, f()])), machine: machineBusySeconds() });
    const before = read();
    return (): ScaleWindow['cpu'] => {
      const after = read();
      const s = (performance.now() - wall0) / 1000;
      const rate = (a?: number, b?: number) => (a !== undefined && b !== undefined ? round((b - a) / s, 2) : undefined);
      const processes = pids.map((_, i) => rate(before.procs[i], after.procs[i]) ?? 0);
      const engines = Object.fromEntries(Object.keys(engineCpu).map((k) => [k, rate(before.engines[k], after.engines[k])]));
      const total = rate(before.machine, after.machine);
      // "other": everything else, the bench's own load generator included.
      const known = processes.reduce((a, b) => a + b, 0) + Object.values(engines).reduce((a: number, b) => a + (b ?? 0), 0);
      return { processes, engines, other: total === undefined ? undefined : round(Math.max(0, total - known), 2) };
    };
  };

  try {
    await Promise.all([start('inbox', 1), start('ingest', 1), start('ingest', 2)]);
    const inbox = procs.find((p) => p.service === 'inbox')!;
    const headersOf: Record<string, string>[] = [];
    for (let k = 0; k < CUSTOMERS; k++) {
      const { apiKey } = await createCustomer(ctx, inbox.origin, `bench-scale-${preset.name}-${k}`);
      await createSubscription({ origin: inbox.origin, apiKey, customerId: '' }, receiver.url(`/hook/scale-${preset.name}-${k}`));
      headersOf.push(apiHeaders(apiKey));
    }
    await receiver.reset();

    // 1. Ingest.
    const bodies = deliveryEventBodies(64);
    let accepted = 0;
    const ingestWindow = async (targets: Proc[]): Promise<ScaleWindow> => {
      const request = (i: number) => ({ method: 'POST' as const, path: '/api/v1/events', headers: headersOf[i % CUSTOMERS], body: bodies[i % bodies.length] });
      for (const t of targets) await probe(t.origin, request(0), 202);
      accepted += targets.length;
      const per = Math.max(1, Math.floor(ctx.settings.connections / targets.length));
      const load = (durationMs: number) =>
        Promise.all(targets.map((t) => runLoad({ origin: t.origin, connections: per, durationMs, request, expectStatus: 202, itemsPerRequest: 1, signal: ctx.signal })));
      if (ctx.settings.warmupS > 0) accepted += (await load(ctx.settings.warmupS * 1000)).reduce((a, r) => a + r.ok, 0);
      const cpu = meter(targets.map((t) => t.child.pid));
      const from = performance.now();
      const results: LoadResult[] = await load(ctx.settings.durationS * 1000);
      const seconds = (performance.now() - from) / 1000;
      const ok = results.reduce((a, r) => a + r.ok, 0);
      accepted += ok;
      const errors = results.reduce((a, r) => a + r.errors, 0);
      return { processes: targets.length, perSecond: round(ok / seconds, 0), seconds: round(seconds, 1), cpu: cpu(), backlogLasted: true, errors };
    };
    const ingests = of('ingest');
    const ingestOne = await ingestWindow(ingests.slice(0, 1));
    ctx.log(`    ingest ×1: ${fmtInt(ingestOne.perSecond)} events/s`);
    const ingestTwo = await ingestWindow(ingests);
    // The consumers' backlog must outlast their windows and the second process's start: top it up
    // to BACKLOG events through the batch endpoint (500 a request).
    const topUp = Math.max(0, BACKLOG - accepted);
    if (topUp > 0) {
      const batch = 500;
      const load = await runLoad({
        origin: ingests[0].origin,
        connections: Math.min(ctx.settings.connections, 8),
        totalRequests: Math.ceil(topUp / batch),
        request: (i) => ({ method: 'POST', path: '/api/v1/events/batch', headers: headersOf[i % CUSTOMERS], body: deliveryBatchBody(batch, i * batch) }),
        expectStatus: 202,
        itemsPerRequest: batch,
        signal: ctx.signal,
      });
      accepted += load.ok * batch;
    }
    ctx.log(`    ingest ×2: ${fmtInt(ingestTwo.perSecond)} events/s; ${fmtInt(accepted)} events waiting for the matcher`);
    for (const p of ingests) await p.child.stop(5000);

    // 2. Matcher: events matched/s from the processes' counters; the backlog is what ingest accepted.
    const matchedSoFar = async () => {
      let sum = 0;
      for (const p of procs.filter((q) => q.service === 'matcher')) sum += p.child.exited ? (p.lastCount ?? 0) : await counter(p, 'triggers_matcher_events_total');
      return sum;
    };
    const matcherWindow = (n: number) => pipelineWindow(ctx, n, of('matcher'), 'triggers_matcher_events_total', meter, matchedSoFar, async () => accepted - (await matchedSoFar()));
    await start('matcher', 1);
    const matcherOne = await matcherWindow(1);
    ctx.log(`    matcher ×1: ${fmtInt(matcherOne.perSecond)} events/s${matcherOne.backlogLasted ? '' : ' (backlog ran out: a floor)'}`);
    await start('matcher', 2);
    const matcherTwo = await matcherWindow(2);
    ctx.log(`    matcher ×2: ${fmtInt(matcherTwo.perSecond)} events/s${matcherTwo.backlogLasted ? '' : ' (backlog ran out: a floor)'}`);
    for (const p of of('matcher')) {
      p.lastCount = await counter(p, 'triggers_matcher_events_total');
      await p.child.stop(5000);
    }
    const matched = await matchedSoFar();

    // 3. Deliverer: webhooks/s at the receiver; the backlog is what the matchers matched.
    const deliveredSoFar = async () => (await receiver.stats()).unique;
    const delivererWindow = (n: number) => pipelineWindow(ctx, n, of('deliverer'), 'triggers_delivery_attempts_total', meter, deliveredSoFar, async () => matched - (await deliveredSoFar()));
    await start('deliverer', 1);
    const delivererOne = await delivererWindow(1);
    ctx.log(`    deliverer ×1: ${fmtInt(delivererOne.perSecond)} webhooks/s${delivererOne.backlogLasted ? '' : ' (backlog ran out: a floor)'}`);
    await start('deliverer', 2);
    const delivererTwo = await delivererWindow(2);
    ctx.log(`    deliverer ×2: ${fmtInt(delivererTwo.perSecond)} webhooks/s${delivererTwo.backlogLasted ? '' : ' (backlog ran out: a floor)'}`);

    const pair = (one: ScaleWindow, two: ScaleWindow) => ({ one, two, factor: one.perSecond > 0 && one.backlogLasted && two.backlogLasted ? round(two.perSecond / one.perSecond, 2) : null });
    const services = { ingest: pair(ingestOne, ingestTwo), matcher: pair(matcherOne, matcherTwo), deliverer: pair(delivererOne, delivererTwo) };
    const busiestEngine = Object.fromEntries(
      SERVICES.map((s) => [s, Object.entries(services[s].two.cpu.engines).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))[0]?.[0]]),
    ) as Record<Service, string | undefined>;
    return { preset: preset.name, describe: preset.describe, services, busiestEngine };
  } finally {
    await Promise.all(procs.map((p) => p.child.stop(5000)));
    if (!ctx.settings.keepData) {
      await prepared.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
      ctx.tempDirs.delete(dataDir);
    }
  }
}

/** How long a window waits at most for its newest process to get work (a Kafka rebalance). */
const REBALANCE_WAIT_MS = 20_000;

/**
 * One window of a queue consumer: waits until the newest process has done some work (its `metric`
 * counter moved: on Kafka it got partitions, which takes a rebalance during which the others
 * stall too), then --warmup s (connections open), then counts `done()` over --duration s; the
 * backlog lasted when `left()` is still positive at the end.
 */
async function pipelineWindow(
  ctx: BenchContext,
  processes: number,
  procs: Proc[],
  metric: string,
  meter: (pids: number[]) => () => ScaleWindow['cpu'],
  done: () => Promise<number>,
  left: () => Promise<number>,
): Promise<ScaleWindow> {
  const newest = procs[procs.length - 1];
  const waitFrom = performance.now();
  while ((await counter(newest, metric)) === 0 && performance.now() - waitFrom < REBALANCE_WAIT_MS) {
    ctx.checkAborted();
    await sleep(250);
  }
  ctx.log(`    ${newest.service} #${processes} had work ${round((performance.now() - waitFrom) / 1000, 1)} s after /health`);
  await sleep(Math.max(ctx.settings.warmupS, 3) * 1000);
  ctx.checkAborted();
  const cpu = meter(procs.map((p) => p.child.pid));
  const before = await done();
  const from = performance.now();
  await sleep(ctx.settings.durationS * 1000);
  const after = await done();
  const seconds = (performance.now() - from) / 1000;
  const remaining = await left();
  return { processes, perSecond: round((after - before) / seconds, 0), seconds: round(seconds, 1), cpu: cpu(), backlogLasted: remaining > 0 };
}

/** The sum of a Prometheus counter's series on a process's /metrics. */
async function counter(proc: Proc, name: string): Promise<number> {
  const response = await fetch(`${proc.origin}/metrics`, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

function summarise(ctx: BenchContext, presets: ScaleOutPresetResult[], failures: string[]): ScaleOutResult {
  const summary: string[] = [`scale-out: 1 vs 2 processes per service, ${ctx.settings.durationS} s windows after ${Math.max(ctx.settings.warmupS, 3)} s (consumers) / ${ctx.settings.warmupS} s (ingest) of warm-up`];
  const targets: TargetCheck[] = [];
  for (const p of presets) {
    summary.push(`  ${p.preset}:`);
    for (const s of SERVICES) {
      const { one, two, factor } = p.services[s];
      const cpu = (w: ScaleWindow) =>
        `procs ${w.cpu.processes.map((c) => c.toFixed(2)).join('+')}; ` +
        Object.entries(w.cpu.engines)
          .map(([k, v]) => `${k} ${v?.toFixed(2) ?? '-'}`)
          .join(', ') +
        (w.cpu.other !== undefined ? `; other ${w.cpu.other.toFixed(2)}` : '');
      const unit = s === 'deliverer' ? 'webhooks/s' : 'events/s';
      summary.push(
        `    ${s.padEnd(9)} ×1 ${fmtInt(one.perSecond).padStart(6)} ${unit}, ×2 ${fmtInt(two.perSecond).padStart(6)} → factor ${factor === null ? 'n/a (backlog ran out)' : factor.toFixed(2)}` +
          `   CPU cores ×1 [${cpu(one)}]  ×2 [${cpu(two)}]; busiest engine ×2: ${p.busiestEngine[s] ?? '-'}`,
      );
      if (one.errors || two.errors) summary.push(`      ${fmtInt((one.errors ?? 0) + (two.errors ?? 0))} requests failed`);
    }
  }
  for (const f of failures) summary.push(`  FAILED ${f}`);
  summary.push('  (2 cores for every process, engine and the load generator: a factor < 2 is expected; the CPU split says what took the second core)');
  return { presets, summary, targets };
}
