/**
 * `ingest-traced`: what OpenTelemetry tracing costs single-event ingest (issue 12, item 7), on and
 * off, in one run. The `ingest` load on three kinds of server:
 *
 * - `untraced build`: core's telemetry modules swapped for stubs that only call their work
 *   (bench/lib/untraced-build.mjs) — the server as if built without tracing;
 * - `off`: the normal build with no `OTEL_*` exporter, so the SDK is never started (production's
 *   default);
 * - `on`: the SDK started, every trace sampled, every span exported (OTLP/HTTP protobuf, the
 *   batch processor of telemetry/batch-export.ts) to a local sink in this process.
 *
 * The closed loop (the target's figure) runs `--trace-rounds` groups of the three as fresh servers
 * side by side on the server core: each warmed up `--trace-warmup` s, then `--trace-cycles` cycles
 * of one `--trace-slice`-s slice per server, the order rotating (bench/lib/interleave.ts). On this
 * VM one server's CPU per event moves by ±20 % between 2-s slices and a fresh server keeps a speed
 * of its own (±5–10 %) for its life, so servers measured one after another could not resolve 10 %;
 * interleaving cancels the drift, the groups average the servers, and the interval (bootstrap over
 * groups and cycles) says how far the figure can be trusted. Overheads are the extra server CPU
 * per event: `on` against `off` (≤ 10 %) and `off` against the untraced build (≤ 1 %; also timed
 * directly here, the off path's helpers as ingest and the matcher call them against direct calls,
 * which resolves far below the noise).
 *
 * `--trace-cycles 0` measures the servers one after another instead, in rounds ordered A B C,
 * C B A, … (the method before 2026-12-03's eighth pass); `--trace-rate N` does so open loop at N
 * events/s, a diagnostic of latency at equal work.
 */
import { processMessageSpan, sendMessagesSpan, contextOfSpan, traceparentOf, ROOT_CONTEXT } from '@triggers/core/runtime';
import { measureSingleEvents, singleEventRequests } from './ingest.ts';
import { withTriggersServer, type ServerRun, type Target } from '../lib/servers.ts';
import { startOtlpSink, type OtlpSink } from '../lib/otlp-sink.ts';
import { cpuMeter, round, type LoadResult } from '../lib/load.ts';
import { runOpenLoop } from '../lib/open-loop.ts';
import { closedLoad, probe } from '../lib/measure.ts';
import { compare, runInterleaved, totals, type Loaded, type Slice } from '../lib/interleave.ts';
import { Samples, fmtInt, percentile, summarize, type LatencySummary } from '../lib/stats.ts';
import type { BenchContext } from '../lib/context.ts';
import type { TargetCheck } from '../lib/report.ts';

export const TRACE_VARIANTS = ['untraced build', 'off', 'on'] as const;
export type TraceVariant = (typeof TRACE_VARIANTS)[number];

export interface VariantSummary {
  /** Mean over the rounds. */
  eventsPerSecond: number;
  /** Server CPU per accepted event (µs), mean over the rounds; absent with --url. */
  cpuUsPerEvent?: number;
  /** Largest relative distance of one round from the mean (the run-to-run noise). */
  spread: number;
  /** The same for server CPU per event. */
  cpuSpread?: number;
}

export interface TracedIngestResult {
  /** Events/s offered open loop (--trace-rate); 0: closed loop at --connections. */
  rate: number;
  /** Rounds of fresh servers one after another; 0 for the interleaved closed loop. */
  rounds: number;
  /** One per server and round; interleaved: one per server (round 0), its slices summed. */
  runs: { variant: TraceVariant; round: number; result: LoadResult }[];
  variants: Record<TraceVariant, VariantSummary>;
  /** Throughput lost with tracing on, against off. */
  onOverhead: number;
  /** Throughput lost with tracing compiled in but off, against the untraced build. */
  offOverhead: number;
  /** The same in server CPU per event (extra CPU / CPU of the baseline). */
  onCpuOverhead?: number;
  offCpuOverhead?: number;
  /** On against off within each round (server CPU per event): the spread of the overhead itself. */
  onCpuOverheadByRound?: number[];
  /** The largest run-to-run spread of any variant: overheads below it are not resolved. */
  noise: number;
  /** The off path timed in this process: extra ns per event over direct calls. */
  offPath: { nsPerEvent: number; shareOfEventCpu?: number };
  /** OTLP export requests and bytes the sink received from the `on` servers. */
  exported: { requests: number; bytes: number };
  /** The closed loop's interleaved slices (the default; absent with --trace-cycles 0 or --trace-rate). */
  interleaved?: {
    groups: number;
    cycles: number;
    sliceS: number;
    warmupS: number;
    slices: Slice[];
    /** Server CPU per event, on against off and off against the untraced build, with 95 % intervals. */
    onVsOff: Comparison;
    offVsUntraced: Comparison;
  };
  summary: string[];
  targets: TargetCheck[];
}

type Comparison = ReturnType<typeof compare>;

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

export async function runIngestTraced(ctx: BenchContext): Promise<ServerRun<TracedIngestResult>> {
  if (ctx.settings.url) throw new Error('ingest-traced starts its own servers (with and without tracing); it cannot measure --url');
  const sink = await startOtlpSink();
  try {
    // Closed loop: interleaved slices over the three servers side by side (the target's figure);
    // --trace-cycles 0 or --trace-rate: fresh servers one after another, in rounds.
    if (ctx.settings.traceRate === 0 && ctx.settings.traceCycles > 0) return await measureInterleaved(ctx, sink);
    return await measureRounds(ctx, sink);
  } finally {
    await sink.close();
  }
}

/** Rounds of three fresh servers one after another (A B C, C B A, …), each measured once. */
async function measureRounds(ctx: BenchContext, sink: OtlpSink): Promise<ServerRun<TracedIngestResult>> {
  const runs: TracedIngestResult['runs'] = [];
  let last: ServerRun<unknown> | undefined;
  for (let r = 0; r < ctx.settings.traceRounds; r++) {
    const order = r % 2 === 0 ? TRACE_VARIANTS : [...TRACE_VARIANTS].reverse();
    for (const variant of order) {
      ctx.checkAborted();
      const name = `ingest-traced ${variant} #${r + 1}`;
      const before = sink.stats().requests;
      const measure = (t: Target, mark: (from: bigint, to: bigint) => void) =>
        ctx.settings.traceRate > 0 ? measureSingleEventsAtRate(ctx, name, t.origin, t.apiKey, t.serverPid, ctx.settings.traceRate, mark) : measureSingleEvents(ctx, name, t.origin, t.apiKey, t.serverPid, mark);
      const run = await withTriggersServer(ctx, `ingest-traced-${variant.replace(' ', '-')}`, measure, variantEnv(variant, sink.url));
      // The server flushed its spans when it stopped (SIGTERM shuts the SDK down).
      checkExports(variant, sink.stats().requests - before);
      runs.push({ variant, round: r + 1, result: run.result });
      last = run;
    }
  }
  const offPath = timeOffPath();
  return { ...last!, result: summarise(ctx.settings.traceRounds, runs, offPath, sink.stats(), ctx.settings.traceRate) };
}

function checkExports(variant: TraceVariant, exports: number): void {
  if (variant === 'on' && exports === 0) throw new Error('tracing was on but the server exported no spans to the sink');
  if (variant !== 'on' && exports > 0) throw new Error(`the ${variant} server exported spans: tracing was not off`);
}

/**
 * `--trace-rounds` groups of three fresh servers side by side on the server core; in each, every
 * server is warmed up, then `--trace-cycles` cycles of one `--trace-slice`-second closed-loop
 * slice per server, the order rotating each cycle (bench/lib/interleave.ts). Only the `on` server
 * has an exporter, so every export the sink counts is its own. The profile kept (with --cpu-prof)
 * is the last group's `on` server's.
 */
async function measureInterleaved(ctx: BenchContext, sink: OtlpSink): Promise<ServerRun<TracedIngestResult>> {
  const { traceCycles: cycles, traceSliceS: sliceS, traceWarmupS: warmupS, traceRounds: groups } = ctx.settings;
  const loads = new Map<TraceVariant, LoadResult[]>(TRACE_VARIANTS.map((v) => [v, []]));
  const slices: Slice[] = [];
  let run: ServerRun<unknown> | undefined;
  for (let g = 1; g <= groups; g++) {
    const before = sink.stats().requests;
    run = await withServersSideBySide(ctx, sink, (up) => interleaveGroup(ctx, g, up, loads, slices));
    checkExports('on', sink.stats().requests - before);
  }
  const offPath = timeOffPath();
  const aggregate = (variant: TraceVariant): LoadResult => aggregateLoads(loads.get(variant)!, slices.filter((s) => s.server === variant), sliceS);
  return {
    ...run!,
    result: summariseInterleaved(
      { groups, cycles, sliceS, warmupS, slices },
      TRACE_VARIANTS.map((variant) => ({ variant, round: 0, result: aggregate(variant) })),
      offPath,
      sink.stats(),
    ),
  };
}

type Up = { variant: TraceVariant; target: Target; mark: (from: bigint, to: bigint) => void }[];

/** The three variants' servers up at once (nested: each stays up until the ones inside it have stopped; `on` outermost, so its run is returned). */
function withServersSideBySide(ctx: BenchContext, sink: OtlpSink, fn: (up: Up) => Promise<void>): Promise<ServerRun<unknown>> {
  const nesting = ['on', 'off', 'untraced build'] as const satisfies readonly TraceVariant[];
  const up: Up = [];
  const startFrom = async (i: number): Promise<ServerRun<unknown>> => {
    if (i === nesting.length) return { result: await fn(up), startupMs: 0 };
    const variant = nesting[i];
    return withTriggersServer(
      ctx,
      `ingest-traced-${variant.replace(' ', '-')}`,
      async (target, mark) => {
        up.push({ variant, target, mark });
        return (await startFrom(i + 1)).result;
      },
      variantEnv(variant, sink.url),
    );
  };
  return startFrom(0);
}

/** One group: each server warmed up, then the cycles; appends the slices and the measured loads. */
async function interleaveGroup(ctx: BenchContext, group: number, up: Up, loads: Map<TraceVariant, LoadResult[]>, slices: Slice[]): Promise<void> {
  const { traceCycles: cycles, traceSliceS: sliceS, traceWarmupS: warmupS } = ctx.settings;
  let measuring = false;
  const members = TRACE_VARIANTS.map((variant) => {
    const { target } = up.find((u) => u.variant === variant)!;
    if (target.serverPid === undefined) throw new Error("ingest-traced needs the servers' pids");
    return { variant, target, pid: target.serverPid, request: singleEventRequests(target.apiKey) };
  });
  const servers: Loaded[] = members.map(({ variant, target, pid, request }) => ({
    name: variant,
    pid,
    load: async (seconds: number) => {
      const result = await closedLoad(ctx, { origin: target.origin, connections: ctx.settings.connections, durationMs: seconds * 1000, request, expectStatus: 202, itemsPerRequest: 1, serverPid: pid });
      if (measuring) loads.get(variant)!.push(result);
      return { events: result.ok, errors: result.errors };
    },
  }));
  for (const [i, server] of servers.entries()) {
    await probe(members[i].target.origin, members[i].request(0), 202);
    ctx.log(`  ingest-traced group ${group}, ${server.name}: warm-up ${warmupS} s (closed loop)…`);
    // Its events, for a profile of the server's whole life (bench/profile-diff.ts divides by warm-up plus slices).
    const warm = await server.load(warmupS);
    ctx.log(`  ingest-traced group ${group}, ${server.name}: warm-up took ${fmtInt(warm.events)} events`);
  }
  measuring = true;
  ctx.log(`  ingest-traced group ${group}: ${cycles} cycles of one ${sliceS}-s slice per server, the order rotating (${fmtInt(cycles * sliceS * servers.length)} s)…`);
  const from = process.hrtime.bigint();
  const own: Slice[] = [];
  await runInterleaved(
    group,
    servers,
    cycles,
    sliceS,
    (slice) => {
      own.push(slice);
      slices.push(slice);
      // Every 5 cycles, the group's totals so far.
      if (own.length % (servers.length * 5) === 0 || own.length === cycles * servers.length) {
        const soFar = TRACE_VARIANTS.map((v) => `${v} ${totals(own, v, sliceS).usPerEvent.toFixed(0)} µs/event`);
        ctx.log(`    after ${slice.cycle} cycles: ${soFar.join(', ')}`);
      }
    },
    () => ctx.checkAborted(),
  );
  const to = process.hrtime.bigint();
  for (const u of up) u.mark(from, to);
}

/**
 * One server's slices as one load result (the report's row): events, CPU and errors summed; the
 * latency percentiles are the medians of the slices' own (a percentile of all requests would need
 * every sample); `max` is the largest of any slice.
 */
function aggregateLoads(loads: LoadResult[], slices: Slice[], sliceS: number): LoadResult {
  const sum = (f: (r: LoadResult) => number) => loads.reduce((a, r) => a + f(r), 0);
  const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
  const t = { events: 0, cpu: 0 };
  for (const s of slices) {
    t.events += s.events;
    t.cpu += s.cpuSeconds;
  }
  const seconds = slices.length * sliceS;
  const pick = (k: keyof LatencySummary) => median(loads.map((r) => r.latencyMs[k]));
  const latencyMs: LatencySummary = { count: sum((r) => r.latencyMs.count), min: Math.min(...loads.map((r) => r.latencyMs.min)), mean: pick('mean'), p50: pick('p50'), p90: pick('p90'), p95: pick('p95'), p99: pick('p99'), p999: pick('p999'), max: Math.max(...loads.map((r) => r.latencyMs.max)) };
  const others = loads.map((r) => r.otherCpuCores).filter((x): x is number => x !== undefined);
  return {
    connections: loads[0]?.connections ?? 0,
    durationS: round(seconds, 3),
    requests: sum((r) => r.requests),
    ok: t.events,
    errors: sum((r) => r.errors),
    errorSamples: [...new Set(loads.flatMap((r) => r.errorSamples))].slice(0, 5),
    requestsPerSecond: round(t.events / seconds, 1),
    itemsPerSecond: round(t.events / seconds, 1),
    latencyMs,
    serverCpuCores: round(t.cpu / seconds, 3),
    loadGeneratorCpuCores: round(sum((r) => r.loadGeneratorCpuCores) / Math.max(1, loads.length), 2),
    otherCpuCores: others.length > 0 ? round(others.reduce((a, b) => a + b, 0) / others.length, 2) : undefined,
  };
}

/**
 * `--trace-rate N`: the same single events offered open loop at N events/s (below every variant's
 * saturation) instead of closed loop at --connections. A diagnostic beside the target's figure,
 * which stays the closed-loop one. Below saturation the server's CPU is not a fixed cost per event:
 * its group commit and its queue consumers take what has arrived, so with CPU to spare they commit
 * and claim smaller groups, and the server fills its core at 800 events/s as at 2,300 (measured
 * 2026-12-03). What the variants are compared on there is the answer's latency (202, due time to
 * response) at equal work; the CPU figures show how much of the core each variant used.
 */
async function measureSingleEventsAtRate(
  ctx: BenchContext,
  name: string,
  origin: string,
  apiKey: string,
  serverPid: number | undefined,
  rate: number,
  markWindow: (from: bigint, to: bigint) => void,
): Promise<LoadResult> {
  const request = singleEventRequests(apiKey);
  const offer = (seconds: number) =>
    runOpenLoop({
      origin,
      connections: ctx.settings.connections,
      ratePerSecond: rate,
      total: Math.max(1, Math.round(rate * seconds)),
      request,
      expectStatus: 202,
      onAccepted: () => undefined,
      signal: ctx.signal,
    });
  if (ctx.settings.warmupS > 0) {
    ctx.log(`  ${name}: warm-up ${ctx.settings.warmupS} s at ${fmtInt(rate)} events/s offered (open loop)…`);
    await offer(ctx.settings.warmupS);
    ctx.checkAborted();
  }
  ctx.log(`  ${name}: measuring ${ctx.settings.durationS} s at ${fmtInt(rate)} events/s offered (open loop)…`);
  const meter = cpuMeter(serverPid, ctx.engineCpu);
  const generatorStart = process.cpuUsage();
  const from = process.hrtime.bigint();
  const run = await offer(ctx.settings.durationS);
  const to = process.hrtime.bigint();
  markWindow(from, to);
  const elapsedS = Number(to - from) / 1e9;
  const generator = process.cpuUsage(generatorStart);
  const latency = new Samples();
  for (let i = 0; i < run.issued; i++) if (!Number.isNaN(run.answeredAt[i])) latency.push(run.answeredAt[i] - run.dueAt[i]);
  const result: LoadResult = {
    connections: ctx.settings.connections,
    durationS: round(elapsedS, 3),
    requests: run.issued,
    ok: run.accepted,
    errors: run.errors,
    errorSamples: run.errorSamples,
    requestsPerSecond: round(run.accepted / elapsedS, 1),
    itemsPerSecond: round(run.accepted / elapsedS, 1),
    latencyMs: summarize(latency.values()),
    ...meter.stop(elapsedS, (generator.user + generator.system) / 1e6),
  };
  ctx.log(`  ${name}: ${fmtInt(result.itemsPerSecond)} events/s accepted of ${fmtInt(rate)} offered, server ${result.serverCpuCores ?? '-'} cores, errors ${result.errors}`);
  return result;
}

/** Server CPU per accepted event (µs), when the server's CPU was measured. */
function cpuPerEvent(result: LoadResult): number | undefined {
  return result.serverCpuCores !== undefined && result.itemsPerSecond > 0 ? (result.serverCpuCores / result.itemsPerSecond) * 1e6 : undefined;
}

function variantEnv(variant: TraceVariant, sinkUrl: string): Record<string, string> {
  if (variant === 'on') return { OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, OTEL_SERVICE_NAME: 'triggers-bench' };
  if (variant === 'off') return {};
  return { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ./bench/lib/untraced-build.mjs`.trim() };
}

function summarise(rounds: number, runs: TracedIngestResult['runs'], offPath: { nsPerEvent: number }, exported: TracedIngestResult['exported'], rate: number): TracedIngestResult {
  const variants = Object.fromEntries(
    TRACE_VARIANTS.map((variant) => {
      const results = runs.filter((r) => r.variant === variant).map((r) => r.result);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const eventsPerSecond = mean(results.map((r) => r.itemsPerSecond));
      // A round that accepted nothing (a starved server on a loaded machine) has no CPU per event: left out.
      const cpus = results.map(cpuPerEvent).filter((x): x is number => x !== undefined);
      const cpu = cpus.length > 0 ? mean(cpus) : undefined;
      const spread = Math.max(...results.map((r) => Math.abs(r.itemsPerSecond / eventsPerSecond - 1)));
      const cpuSpread = cpu === undefined ? undefined : Math.max(...cpus.map((x) => Math.abs(x / cpu - 1)));
      return [variant, { eventsPerSecond: round(eventsPerSecond, 0), cpuUsPerEvent: cpu === undefined ? undefined : round(cpu, 1), spread: round(spread, 4), cpuSpread: cpuSpread === undefined ? undefined : round(cpuSpread, 4) }];
    }),
  ) as Record<TraceVariant, VariantSummary>;
  const { 'untraced build': untraced, off, on } = variants;
  const onOverhead = round(1 - on.eventsPerSecond / off.eventsPerSecond, 4);
  const offOverhead = round(1 - off.eventsPerSecond / untraced.eventsPerSecond, 4);
  const cpuOver = (a?: number, b?: number) => (a !== undefined && b !== undefined ? round(a / b - 1, 4) : undefined);
  const onCpuOverhead = cpuOver(on.cpuUsPerEvent, off.cpuUsPerEvent);
  const offCpuOverhead = cpuOver(off.cpuUsPerEvent, untraced.cpuUsPerEvent);
  const noise = Math.max(untraced.spread, off.spread, on.spread);
  // On against off in the same round (the two ran back to back, under the same load).
  const byRound = Array.from({ length: rounds }, (_, i) => {
    const of = (variant: TraceVariant) => cpuPerEvent(runs.find((r) => r.variant === variant && r.round === i + 1)!.result);
    const [a, b] = [of('on'), of('off')];
    return a !== undefined && b !== undefined ? round(a / b - 1, 4) : undefined;
  });
  const onCpuOverheadByRound = byRound.filter((x): x is number => x !== undefined);
  const roundsText = byRound.length > 0 ? ` (by round: ${byRound.map((x) => (x === undefined ? 'n/a' : pct(x))).join(', ')})` : '';
  const shareOfEventCpu = off.cpuUsPerEvent ? round(offPath.nsPerEvent / (off.cpuUsPerEvent * 1000), 5) : undefined;

  const latencyLines =
    rate > 0
      ? TRACE_VARIANTS.map((v) => {
          const results = runs.filter((r) => r.variant === v).map((r) => r.result.latencyMs);
          return `  ${v.padEnd(15)} 202 latency by round: ${results.map((l) => `p50 ${l.p50.toFixed(1)} / p99 ${l.p99.toFixed(1)} ms`).join('; ')}`;
        })
      : [];
  const summary = [
    `tracing (${rounds} rounds of 3 fresh servers, ${rate > 0 ? `${fmtInt(rate)} events/s offered open loop` : 'closed loop'}; events/s and server CPU per event, means):`,
    ...TRACE_VARIANTS.map(
      (v) =>
        `  ${v.padEnd(15)} ${fmtInt(variants[v].eventsPerSecond).padStart(7)} events/s  ${variants[v].cpuUsPerEvent?.toFixed(1) ?? '-'} µs CPU/event  (rounds differ by up to ±${pct(variants[v].spread)} in events/s, ±${variants[v].cpuSpread === undefined ? '-' : pct(variants[v].cpuSpread!)} in CPU/event)`,
    ),
    `  on  vs off:            ${pct(onOverhead)} of throughput, ${onCpuOverhead === undefined ? '-' : pct(onCpuOverhead)} more CPU per event${roundsText} (${fmtInt(exported.requests)} OTLP exports, ${fmtInt(exported.bytes)} bytes)`,
    `  off vs untraced build: ${pct(offOverhead)} of throughput, ${offCpuOverhead === undefined ? '-' : pct(offCpuOverhead)} more CPU per event; run-to-run noise ±${pct(noise)}`,
    `  off path timed in-process: ${offPath.nsPerEvent.toFixed(0)} ns per event over direct calls` +
      (shareOfEventCpu !== undefined ? ` = ${(shareOfEventCpu * 100).toFixed(3)} % of the ${off.cpuUsPerEvent} µs CPU an event costs` : ''),
    ...latencyLines,
  ];
  const targets: TargetCheck[] = [
    // Judged on server CPU per event (what a loaded machine disturbs least); throughput beside it.
    onCpuOverhead !== undefined
      ? {
          target: 'tracing on costs ≤ 10 % of single-event ingest (server CPU per event)',
          measured: `+${pct(onCpuOverhead)}${roundsText}; throughput ${pct(-onOverhead)}`,
          pass: onCpuOverhead <= 0.1,
        }
      : { target: 'tracing on costs ≤ 10 % of single-event throughput', measured: `${pct(onOverhead)} (±${pct(noise)} noise)`, pass: onOverhead <= 0.1 },
    {
      target: 'tracing off costs ≤ 1 % of single-event throughput',
      // The throughput difference when it resolves; else the directly timed cost, with the noise beside it.
      measured: noise <= 0.01 ? pct(offOverhead) : `${pct(offOverhead)} (noise ±${pct(noise)}); timed ${shareOfEventCpu === undefined ? '-' : `${(shareOfEventCpu * 100).toFixed(3)} %`}`,
      pass: noise <= 0.01 ? offOverhead <= 0.01 : shareOfEventCpu !== undefined ? shareOfEventCpu <= 0.01 && offOverhead <= 0.01 + noise : null,
    },
  ];
  // At a fixed rate the figures are a diagnostic (tracing's own cost at equal work): the targets are judged closed loop.
  if (rate > 0) for (const t of targets) Object.assign(t, { measured: `${t.measured} at ${fmtInt(rate)} events/s offered (diagnostic; judged on the closed loop)`, pass: null });
  return { rate, rounds, runs, variants, onOverhead, offOverhead, onCpuOverhead, offCpuOverhead, onCpuOverheadByRound, noise: round(noise, 4), offPath: { nsPerEvent: round(offPath.nsPerEvent, 1), shareOfEventCpu }, exported, summary, targets };
}

/** The interleaved run's figures: totals per server, on against off and off against the untraced build with their intervals. */
function summariseInterleaved(
  meta: { groups: number; cycles: number; sliceS: number; warmupS: number; slices: Slice[] },
  runs: TracedIngestResult['runs'],
  offPath: { nsPerEvent: number },
  exported: TracedIngestResult['exported'],
): TracedIngestResult {
  const { groups, cycles, sliceS, warmupS, slices } = meta;
  const variants = Object.fromEntries(
    TRACE_VARIANTS.map((variant) => {
      const t = totals(slices, variant, sliceS);
      const own = slices.filter((s) => s.server === variant && s.events > 0);
      const spread = Math.max(...own.map((s) => Math.abs(s.events / sliceS / t.eventsPerSecond - 1)));
      const ownUs = (t.ownCpuSeconds / t.events) * 1e6;
      const cpuSpread = Math.max(...own.map((s) => Math.abs(((s.cpuSeconds / s.events) * 1e6) / ownUs - 1)));
      return [variant, { eventsPerSecond: round(t.eventsPerSecond, 0), cpuUsPerEvent: round(t.usPerEvent, 1), spread: round(spread, 4), cpuSpread: round(cpuSpread, 4) }];
    }),
  ) as Record<TraceVariant, VariantSummary>;
  const { 'untraced build': untraced, off, on } = variants;
  const interval = (c: Comparison) => `95 % interval ${pct(c.low)} to ${pct(c.high)}`;
  const signed = (x: number) => `${x >= 0 ? '+' : ''}${pct(x)}`;
  const onVsOff = compare(slices, 'on', 'off');
  const offVsUntraced = compare(slices, 'off', 'untraced build');
  const onOverhead = round(1 - on.eventsPerSecond / off.eventsPerSecond, 4);
  const offOverhead = round(1 - off.eventsPerSecond / untraced.eventsPerSecond, 4);
  // On against off in each group of fresh servers: how far one group's servers can mislead.
  const byGroup = Array.from({ length: groups }, (_, i) => compare(slices.filter((s) => s.group === i + 1), 'on', 'off', 0).overhead);
  const groupsText = `by group: ${byGroup.map((x) => signed(x)).join(', ')}`;
  const noise = Math.max(untraced.cpuSpread!, off.cpuSpread!, on.cpuSpread!);
  const shareOfEventCpu = off.cpuUsPerEvent ? round(offPath.nsPerEvent / (off.cpuUsPerEvent * 1000), 5) : undefined;
  const summary = [
    `tracing (${groups} group${groups === 1 ? '' : 's'} of 3 fresh servers side by side on the server core; in each, every server warmed up ${warmupS} s, then ${cycles} cycles of one ${sliceS}-s closed-loop slice per server in rotating order; all their CPU over the events of their slices):`,
    ...TRACE_VARIANTS.map(
      (v) => `  ${v.padEnd(15)} ${fmtInt(variants[v].eventsPerSecond).padStart(7)} events/s  ${variants[v].cpuUsPerEvent?.toFixed(1)} µs CPU/event  (one slice's own CPU/event differs by up to ±${pct(variants[v].cpuSpread!)})`,
    ),
    `  on  vs off:            ${signed(onVsOff.overhead)} CPU per event (${interval(onVsOff)}, resampling groups and cycles); ${pct(-onOverhead)} throughput; ${groupsText} (${fmtInt(exported.requests)} OTLP exports, ${fmtInt(exported.bytes)} bytes)`,
    `  off vs untraced build: ${signed(offVsUntraced.overhead)} CPU per event (${interval(offVsUntraced)}); ${pct(-offOverhead)} throughput`,
    `  off path timed in-process: ${offPath.nsPerEvent.toFixed(0)} ns per event over direct calls` +
      (shareOfEventCpu !== undefined ? ` = ${(shareOfEventCpu * 100).toFixed(3)} % of the ${off.cpuUsPerEvent} µs CPU an event costs` : ''),
  ];
  const targets: TargetCheck[] = [
    {
      target: 'tracing on costs ≤ 10 % of single-event ingest (server CPU per event)',
      measured: `${signed(onVsOff.overhead)} (${interval(onVsOff)}; ${groupsText}); throughput ${pct(-onOverhead)}`,
      pass: onVsOff.overhead <= 0.1,
    },
    {
      target: 'tracing off costs ≤ 1 % of single-event ingest',
      // The interval is far wider than 1 %: the off path's cost is timed directly; the interval must not exclude ≤ 1 %.
      measured: `${signed(offVsUntraced.overhead)} CPU per event (${interval(offVsUntraced)}); timed ${shareOfEventCpu === undefined ? '-' : `${(shareOfEventCpu * 100).toFixed(3)} %`}`,
      pass: shareOfEventCpu !== undefined ? shareOfEventCpu <= 0.01 && offVsUntraced.low <= 0.01 : null,
    },
  ];
  return {
    rate: 0,
    rounds: 0,
    runs,
    variants,
    onOverhead,
    offOverhead,
    onCpuOverhead: round(onVsOff.overhead, 4),
    offCpuOverhead: round(offVsUntraced.overhead, 4),
    onCpuOverheadByRound: byGroup.map((x) => round(x, 4)),
    noise: round(noise, 4),
    offPath: { nsPerEvent: round(offPath.nsPerEvent, 1), shareOfEventCpu },
    exported,
    interleaved: { groups, cycles, sliceS, warmupS, slices, onVsOff, offVsUntraced },
    summary,
    targets,
  };
}

/**
 * The off path of one ingested event, timed: ingest's enqueue span and traceparent, the matcher's
 * process span and its annotation — called as the services call them (attribute objects
 * included) — against the same work called directly. The SDK is never started in this process.
 */
function timeOffPath(): { nsPerEvent: number } {
  const done = Promise.resolve(0);
  const message = { id: 'm1', receipt: 'r1', enqueuedAt: 0, receiveCount: 1, body: { eventId: 'e1', customerId: 'c1', traceparent: undefined as string | undefined } };
  let sink = 0;
  const accept = (m: { traceparent?: string }) => {
    sink += m.traceparent === undefined ? 1 : 2;
    return done;
  };
  const traced = (i: number) => {
    const ids = i >= 0 ? { 'triggers.event_id': message.body.eventId } : {};
    // As ingest-events.ts and the matcher call them (the request's trace context is undefined while off).
    void sendMessagesSpan('sqlite', 'events', 1, { 'triggers.customer_id': message.body.customerId, ...ids }, (span) => accept({ traceparent: traceparentOf(span) }), ROOT_CONTEXT);
    void processMessageSpan(
      'sqlite',
      'events',
      message,
      { 'triggers.event_id': message.body.eventId, 'triggers.customer_id': message.body.customerId },
      (span) => {
        const parent = contextOfSpan(span);
        span.setAttribute('triggers.matched_subscriptions', 0);
        sink += parent ? 0 : 1;
        return done;
      },
    );
  };
  const direct = (_i: number) => {
    void accept({ traceparent: undefined });
    void done;
  };
  const N = 1_000_000;
  const time = (fn: (i: number) => void) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < N; i++) fn(i);
    return Number(process.hrtime.bigint() - start) / N;
  };
  let best = Infinity;
  let bestDirect = Infinity;
  // The minimum of several passes: the least disturbed by other processes.
  for (let pass = 0; pass < 7; pass++) {
    best = Math.min(best, time(traced));
    bestDirect = Math.min(bestDirect, time(direct));
  }
  if (sink === 0) throw new Error('unreachable');
  return { nsPerEvent: Math.max(0, best - bestDirect) };
}
