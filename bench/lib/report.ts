/** The tables and the target checks printed at the end of a run (the JSON has the full figures). */
import os from 'node:os';
import { round, type LoadResult } from './load.ts';
import { FILTER_EVENT_TYPE } from './payloads.ts';
import { fmtInt, fmtMs, type LatencySummary } from './stats.ts';
import type { machineInfo, sourceInfo } from './machine.ts';
import { MAX_BATCH, type BenchContext } from './context.ts';
import { wrkVersion } from './wrk.ts';
import type { InboxResult } from '../scenarios/inbox.ts';
import type { TracedIngestResult } from '../scenarios/ingest-traced.ts';
import type { DeliveryLatencyResult } from '../scenarios/delivery-latency.ts';
import type { DeliveryThroughputReport } from '../scenarios/delivery-throughput.ts';
import type { SteadyResult } from '../scenarios/steady.ts';
import type { ScaleOutResult } from '../scenarios/scale-out.ts';
import type { MemoryResult } from '../scenarios/memory.ts';

/** What each scenario that ran (and did not fail) measured, by scenario name. */
export interface ScenarioResults {
  ingest?: LoadResult;
  'ingest-traced'?: TracedIngestResult;
  batch?: LoadResult;
  bare?: LoadResult;
  inbox?: InboxResult;
  'delivery-latency'?: DeliveryLatencyResult;
  'delivery-throughput'?: DeliveryThroughputReport;
  steady?: SteadyResult;
  'scale-out'?: ScaleOutResult;
  memory?: MemoryResult;
}

export interface TargetCheck {
  target: string;
  measured: string;
  /** null: not applicable to this run (e.g. fewer events stored than the target assumes). */
  pass: boolean | null;
}

/** Server CPU time per accepted event (µs), or '-'. */
function serverCpuPerEvent(r: LoadResult): string {
  return r.serverCpuCores !== undefined && r.itemsPerSecond > 0 ? fmtInt((r.serverCpuCores / r.itemsPerSecond) * 1e6) : '-';
}

/** The closed-loop client and the CPU pinning, in words (the report's and the log's "load:" line). */
export function loadGeneratorText(ctx: BenchContext): string {
  const { loadGenerator, wrkThreads, pin } = ctx.settings;
  const client =
    loadGenerator === 'wrk'
      ? `${wrkVersion()} (${wrkThreads} thread${wrkThreads === 1 ? '' : 's'}) for ingest/ingest-traced/batch/bare, undici Pool elsewhere`
      : 'undici Pool, pipelining 1';
  return pin ? `${client}; servers under test pinned to CPU ${pin.server}, load generator and bench on CPU ${pin.load} (taskset)` : `${client}, unpinned`;
}

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function formatReport(
  ctx: BenchContext,
  run: {
    startedAt: string;
    machine: ReturnType<typeof machineInfo>;
    source: ReturnType<typeof sourceInfo>;
    engines: string[];
    results: ScenarioResults;
    failures: Record<string, string>;
  },
): { text: string; ratio: number | undefined; targets: TargetCheck[] } {
  const { startedAt, machine, source, engines, failures } = run;
  const { ingest, 'ingest-traced': traced, batch, bare, inbox, 'delivery-latency': latency, 'delivery-throughput': throughput, steady } = run.results;
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
      ...(ctx.engineCpu ? [r.engineCpuCores !== undefined ? r.engineCpuCores.toFixed(2) : '-'] : []),
      r.otherCpuCores !== undefined ? r.otherCpuCores.toFixed(2) : '-',
      serverCpuPerEvent(r),
    ]);
  };
  addLoad('ingest  POST /api/v1/events', ingest);
  for (const r of traced?.runs ?? []) addLoad(`ingest  tracing ${r.variant} ${r.round === 0 ? 'all slices' : `#${r.round}`}`, r.result);
  addLoad(`batch   POST /api/v1/events/batch ×${ctx.settings.batchSize}`, batch);
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
  out.push(`load: ${loadGeneratorText(ctx)}, ${ctx.settings.connections} connections, ${ctx.settings.durationS} s measured after ${ctx.settings.warmupS} s warm-up, all on 127.0.0.1`);
  if (!ctx.settings.url) out.push(`backends: ${ctx.preset.name}${engines.length ? ` (${engines.join('; ')})` : ''}`);
  out.push('');
  if (loadRows.length) {
    out.push(table(['scenario', 'req/s', 'events/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors', 'srv CPU', 'gen CPU', ...(ctx.engineCpu ? ['engine CPU'] : []), 'other CPU', 'srv µs/event'], loadRows));
    out.push(
      `(CPU in cores during the measurement: the server process, the load generator, ${ctx.engineCpu ? "the engines' processes, " : ''}everything else on the machine; ` +
        `srv µs/event: server CPU time per accepted event, the figure least disturbed by other load)`,
    );
    const noisy = [ingest, ...(traced?.runs.map((r) => r.result) ?? []), batch, bare].some((r) => r?.otherCpuCores !== undefined && r.otherCpuCores > 0.25);
    if (noisy) out.push(`WARNING: other processes used CPU during the run (see "other CPU"): the figures are disturbed; run on a quiet machine.`);
    if (ratio !== undefined) out.push(`single-event ingest / bare node:http = ${ratio.toFixed(3)}${ctx.settings.pin ? ` (both pinned to CPU ${ctx.settings.pin.server}, same run)` : ''}`);
    // Tracing's cost, on and off (bench/scenarios/ingest-traced.ts).
    if (traced) out.push(...traced.summary);
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
        `CPU cores: server ${cores(l.cpuCores, 'server')}, receiver ${cores(l.cpuCores, 'receiver')}, load generator ${cores(l.cpuCores, 'loadGenerator')}, ${ctx.engineCpu ? `engines ${cores(l.cpuCores, 'engines')} (${Object.keys(ctx.engineCpuByName).map((n) => `${n} ${cores(l.cpuCores, `engine:${n}`)}`).join(', ')}), ` : ''}other ${cores(l.cpuCores, 'other')})`,
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
        ...(ctx.engineCpu ? [cores(r.preload.cpuCores, 'engines')] : []),
        cores(r.preload.cpuCores, 'other'),
      ],
      [
        `drain: backlog ${fmtInt(r.drain.backlogAtStart)}, ${r.drain.windowS} s${r.drain.backlogLasted ? '' : ' (backlog ran out)'}`,
        `1-s ${fmtInt(r.drain.perSecondMin)}–${fmtInt(r.drain.perSecondMax)}`,
        `${fmtInt(r.drain.deliveriesPerSecond)}`,
        cores(r.drain.cpuCores, 'server'),
        cores(r.drain.cpuCores, 'receiver'),
        cores(r.drain.cpuCores, 'loadGenerator'),
        ...(ctx.engineCpu ? [cores(r.drain.cpuCores, 'engines')] : []),
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
        ...(ctx.engineCpu ? [b.engineCpuCores !== undefined ? b.engineCpuCores.toFixed(2) : '-'] : []),
        b.otherCpuCores !== undefined ? b.otherCpuCores.toFixed(2) : '-',
      ]);
    }
    out.push(table(['delivery-throughput', '', 'deliveries/s', 'srv CPU', 'rcv CPU', 'gen CPU', ...(ctx.engineCpu ? ['eng CPU'] : []), 'other CPU'], rows));
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
    if (ctx.engineCpu) out.push(`engine CPU by engine (cores): pre-load ${byEngine(r.preload.cpuCores)}; drain ${byEngine(r.drain.cpuCores)}`);
    const noisy = [r.preload.cpuCores.other, r.drain.cpuCores.other, r.bareUndici?.otherCpuCores].some((o) => (o ?? 0) > 0.25);
    if (noisy) out.push('WARNING: other processes used CPU during the delivery-throughput run (see "other CPU"): the figures are disturbed.');
    out.push('');
  }

  if (steady) {
    const r = steady;
    out.push(
      `steady: ${fmtInt(r.ratePerSecond)} events/s open-loop for ${r.durationS} s, every event matched${r.history.events ? `, on ${fmtInt(r.history.events)} stored events of history` : ''}; ` +
        `${fmtInt(r.sent)} sent, ${fmtInt(r.accepted)} accepted (${fmtInt(r.acceptedPerSecond)}/s), backlog at the end ${fmtInt(r.backlogAtEnd)} (${r.backlogSeconds} s of input), ` +
        `${fmtInt(r.delivered)} delivered, ${fmtInt(r.missing)} missing after a ${r.settleWaitedS} s settle, ${fmtInt(r.duplicates)} duplicates`,
    );
    const row = (name: string, s: LatencySummary) => [name, fmtMs(s.min), fmtMs(s.p50), fmtMs(s.p90), fmtMs(s.p99), fmtMs(s.max)];
    out.push(table(['steady latency (ms)', 'min', 'p50', 'p90', 'p99', 'max'], [row('request due → 202 (ingest)', r.ingestMs), row('202 → webhook received', r.webhookMs)]));
    out.push(
      `deliveries/s per 10 s: ${r.deliveredPer10s.map(fmtInt).join(', ')}; CPU cores: server ${cores(r.cpuCores, 'server')}, receiver ${cores(r.cpuCores, 'receiver')}, ` +
        `load generator ${cores(r.cpuCores, 'loadGenerator')}, other ${cores(r.cpuCores, 'other')}`,
    );
    if ((r.cpuCores.other ?? 0) > 0.25) out.push('WARNING: other processes used CPU during the steady run: the figures are disturbed.');
    out.push('');
  }
  // Scale-out (issue 13 item 4) and memory (item 5) say their own lines.
  for (const r of [run.results['scale-out'], run.results.memory]) if (r) out.push(...r.summary, '');

  // Targets.
  const targets: TargetCheck[] = [];
  if (ingest) {
    targets.push({ target: 'single-event ≥ 10,000 events/s (64 conn)', measured: fmtInt(ingest.itemsPerSecond), pass: ingest.itemsPerSecond >= 10_000 });
    targets.push({ target: 'single-event p99 ≤ 50 ms (64 conn)', measured: `${fmtMs(ingest.latencyMs.p99)} ms`, pass: ingest.latencyMs.p99 <= 50 });
    targets.push({ target: 'single-event error count = 0', measured: fmtInt(ingest.errors), pass: ingest.errors === 0 });
  }
  if (ratio !== undefined) targets.push({ target: 'single-event ≥ 0.40 × bare node:http', measured: ratio.toFixed(3), pass: ratio >= 0.4 });
  if (traced) targets.push(...traced.targets);
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
  if (steady) {
    const at = `steady ${fmtInt(steady.ratePerSecond)}/s, ${steady.durationS} s${steady.history.events ? `, ${fmtInt(steady.history.events)} stored` : ''}`;
    targets.push({ target: `backlog at the end ≤ 1 s of input (${at})`, measured: `${fmtInt(steady.backlogAtEnd)} (${steady.backlogSeconds} s)`, pass: steady.backlogSeconds <= 1 });
    targets.push({ target: `202 → webhook p99 ≤ 1 s (${at})`, measured: `${fmtMs(steady.webhookMs.p99)} ms (p50 ${fmtMs(steady.webhookMs.p50)} ms)`, pass: steady.webhookMs.p99 <= 1000 });
    targets.push({ target: `ingest p99 (${at}), reported`, measured: `${fmtMs(steady.ingestMs.p99)} ms`, pass: null });
    targets.push({
      target: 'steady: every accepted event delivered (within the settle time)',
      measured: `${fmtInt(steady.delivered)} / ${fmtInt(steady.accepted)}${steady.errors ? `, ${fmtInt(steady.errors)} posts failed` : ''}`,
      pass: steady.missing === 0 && steady.errors === 0,
    });
  }
  for (const r of [run.results['scale-out'], run.results.memory]) if (r) targets.push(...r.targets);
  if (targets.length) {
    out.push(table(['target', 'measured', 'result'], targets.map((t) => [t.target, t.measured, t.pass === null ? 'n/a' : t.pass ? 'PASS' : 'FAIL'])));
    out.push('');
  }
  for (const [name, message] of Object.entries(failures)) {
    const text = message.split('\n').map((l) => l.trim()).filter(Boolean).join(' | ');
    out.push(`${name}: FAILED — ${text.length > 400 ? `${text.slice(0, 400)}…` : text}`);
  }
  return { text: out.join('\n') + '\n', ratio, targets };
}
