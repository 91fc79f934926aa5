/**
 * `memory` (issue 13, item 5): the all-in-one's resident memory under stored history and load.
 *
 * 1. Seed --memory-events (default 1,000,000) events through the batch endpoint (500 a request),
 *    then wait for the matcher to settle them (no subscription: each becomes `unmatched`).
 * 2. Burst: --memory-burst-s (default 60) s of single events offered open-loop at
 *    --memory-burst-rate (default 5,000) events/s. RSS at the end (and its peak, sampled every
 *    second) must stay under 300 MB.
 * 3. Soak: --memory-soak-s (default 600) s at --memory-soak-rate (default 1,000) events/s. RSS is
 *    sampled every second; growth = median of the last tenth of the samples over the median of
 *    the first tenth − 1, which must stay under 10 %.
 *
 * RSS is the server process's VmRSS from /proc (the whole process: every thread and SQLite's page
 * cache in it). Shorter flags give a quick run; the printed lines state the durations used.
 */
import { readFileSync } from 'node:fs';
import { runOpenLoop, type OpenLoopResult } from '../lib/open-loop.ts';
import { runLoad, round } from '../lib/load.ts';
import { batchBody, singleEventBodies } from '../lib/payloads.ts';
import { apiHeaders, probe } from '../lib/measure.ts';
import { withTriggersServer, type ServerRun } from '../lib/servers.ts';
import { sleep } from '../lib/delivery.ts';
import { fmtInt } from '../lib/stats.ts';
import { MAX_BATCH, type BenchContext } from '../lib/context.ts';
import type { TargetCheck } from '../lib/report.ts';

const RSS_LIMIT_MB = 300;
const GROWTH_LIMIT = 0.1;

export interface MemoryPhase {
  seconds: number;
  ratePerSecond: number;
  offered: number;
  accepted: number;
  errors: number;
  /** RSS (MB) sampled every second. */
  rssMb: number[];
}

export interface MemoryResult {
  seeded: { events: number; seconds: number; settledAfterS: number | null };
  rssAfterSeedMb: number;
  burst: MemoryPhase & { endMb: number; peakMb: number };
  soak: MemoryPhase & { startMb: number; endMb: number; growth: number };
  summary: string[];
  targets: TargetCheck[];
}

/** VmRSS of `pid` in MB (1 MB = 2^20 bytes), from /proc/<pid>/status. */
function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  if (!line) throw new Error(`no VmRSS for pid ${pid}`);
  return round(Number(line.split(/\s+/)[1]) / 1024, 1);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export async function runMemory(ctx: BenchContext): Promise<ServerRun<MemoryResult>> {
  if (ctx.settings.url) throw new Error('memory reads the RSS of a server it started; it cannot measure --url');
  const { memoryEvents, memoryBurstS, memoryBurstRate, memorySoakS, memorySoakRate } = ctx.settings;
  return withTriggersServer(ctx, 'memory', async (t) => {
    const pid = t.serverPid!;
    const headers = apiHeaders(t.apiKey);

    // 1. Seed.
    const requests = Math.ceil(memoryEvents / MAX_BATCH);
    ctx.log(`  memory: storing ${fmtInt(memoryEvents)} events (${fmtInt(requests)} batch requests)…`);
    await probe(t.origin, { method: 'POST', path: '/api/v1/events/batch', headers, body: batchBody(1, 0) }, 202);
    const seedFrom = Date.now();
    const seed = await runLoad({
      origin: t.origin,
      connections: Math.min(ctx.settings.connections, 16),
      totalRequests: requests,
      request: (i) => ({ method: 'POST', path: '/api/v1/events/batch', headers, body: batchBody(Math.min(MAX_BATCH, memoryEvents - i * MAX_BATCH), 1 + i * MAX_BATCH) }),
      expectStatus: 202,
      itemsPerRequest: MAX_BATCH,
      signal: ctx.signal,
      progressEveryMs: 10_000,
      onProgress: (ok, ms) => ctx.log(`    … ${fmtInt(Math.min(memoryEvents, ok * MAX_BATCH))} stored after ${(ms / 1000).toFixed(0)} s (RSS ${rssMb(pid)} MB)`),
    });
    ctx.checkAborted();
    if (seed.errors > 0) throw new Error(`${seed.errors} seed requests failed: ${seed.errorSamples.join('; ')}`);
    const seedS = (Date.now() - seedFrom) / 1000;
    const stored = 1 + Math.min(memoryEvents, seed.ok * MAX_BATCH);
    const settledAfterS = await waitForSettled(ctx, t.origin, headers, 300);
    const rssAfterSeedMb = rssMb(pid);
    ctx.log(`  memory: ${fmtInt(stored)} stored in ${seedS.toFixed(0)} s; ${settledAfterS === null ? 'not all settled after 300 s' : `settled after ${settledAfterS} s`}; RSS ${rssAfterSeedMb} MB`);

    // 2. Burst, 3. soak.
    const bodies = singleEventBodies(64);
    const phase = async (name: string, ratePerSecond: number, seconds: number): Promise<MemoryPhase> => {
      ctx.log(`  memory: ${name}, ${fmtInt(ratePerSecond)} events/s offered for ${seconds} s…`);
      const samples: number[] = [];
      const timer = setInterval(() => samples.push(rssMb(pid)), 1000);
      let result: OpenLoopResult;
      try {
        result = await runOpenLoop({
          origin: t.origin,
          connections: ctx.settings.connections,
          ratePerSecond,
          total: Math.round(ratePerSecond * seconds),
          request: (i) => ({ method: 'POST', path: '/api/v1/events', headers, body: bodies[i % bodies.length] }),
          expectStatus: 202,
          onAccepted: () => undefined,
          signal: ctx.signal,
        });
      } finally {
        clearInterval(timer);
      }
      samples.push(rssMb(pid));
      ctx.checkAborted();
      ctx.log(`    ${fmtInt(result.accepted)} accepted, ${fmtInt(result.errors)} failed; RSS ${samples[0]} → ${samples.at(-1)} MB (peak ${Math.max(...samples)} MB)`);
      return { seconds, ratePerSecond, offered: result.issued, accepted: result.accepted, errors: result.errors, rssMb: samples };
    };
    const burst = await phase('burst', memoryBurstRate, memoryBurstS);
    await sleep(2000);
    const soak = await phase('soak', memorySoakRate, memorySoakS);
    const tenth = Math.max(1, Math.floor(soak.rssMb.length / 10));
    const startMb = median(soak.rssMb.slice(0, tenth));
    const endMb = median(soak.rssMb.slice(-tenth));
    const growth = round(endMb / startMb - 1, 4);

    const result: Omit<MemoryResult, 'summary' | 'targets'> = {
      seeded: { events: stored, seconds: round(seedS, 1), settledAfterS },
      rssAfterSeedMb,
      burst: { ...burst, endMb: burst.rssMb.at(-1)!, peakMb: Math.max(...burst.rssMb) },
      soak: { ...soak, startMb, endMb, growth },
    };
    const full = stored >= 1_000_000 && memoryBurstS >= 60 && memoryBurstRate >= 5000;
    const fullSoak = memorySoakS >= 600 && memorySoakRate >= 1000;
    const summary = [
      `memory: all-in-one RSS (VmRSS) with ${fmtInt(stored)} events stored (seeded in ${result.seeded.seconds} s, ${settledAfterS === null ? 'backlog not settled' : `settled after ${settledAfterS} s`}): ${rssAfterSeedMb} MB`,
      `  burst ${memoryBurstS} s at ${fmtInt(memoryBurstRate)}/s offered (${fmtInt(burst.accepted)} accepted, ${fmtInt(burst.errors)} failed): ${result.burst.endMb} MB at the end, peak ${result.burst.peakMb} MB`,
      `  soak ${memorySoakS} s at ${fmtInt(memorySoakRate)}/s offered (${fmtInt(soak.accepted)} accepted, ${fmtInt(soak.errors)} failed): ${startMb} MB → ${endMb} MB (medians of the first and last tenth), growth ${(growth * 100).toFixed(1)} %`,
    ];
    const targets: TargetCheck[] = [
      {
        target: `RSS < ${RSS_LIMIT_MB} MB after 1M stored + 60 s at 5,000/s (ran: ${fmtInt(stored)} stored, ${memoryBurstS} s at ${fmtInt(memoryBurstRate)}/s)`,
        measured: `${result.burst.endMb} MB (peak ${result.burst.peakMb})`,
        pass: full ? result.burst.peakMb < RSS_LIMIT_MB && burst.errors === 0 : null,
      },
      {
        target: `RSS growth < 10 % over 10 min at 1,000/s (ran: ${memorySoakS} s at ${fmtInt(memorySoakRate)}/s)`,
        measured: `${(growth * 100).toFixed(1)} %`,
        pass: fullSoak ? growth < GROWTH_LIMIT && soak.errors === 0 : null,
      },
    ];
    // A shortened run still says how it would have gone, beside "n/a".
    if (!full) summary.push(`  (shortened run: the RSS target reads n/a; under ${RSS_LIMIT_MB} MB here: ${result.burst.peakMb < RSS_LIMIT_MB ? 'yes' : 'no'})`);
    if (!fullSoak) summary.push(`  (shortened soak: the growth target reads n/a; under 10 % here: ${growth < GROWTH_LIMIT ? 'yes' : 'no'})`);
    return { ...result, summary, targets };
  });
}

/** Waits until the customer has no `pending` event left (the matcher settled the seed); seconds waited, or null. */
async function waitForSettled(ctx: BenchContext, origin: string, headers: Record<string, string>, maxS: number): Promise<number | null> {
  const from = Date.now();
  while ((Date.now() - from) / 1000 < maxS) {
    ctx.checkAborted();
    const response = await fetch(`${origin}/api/v1/inbox?status=pending&limit=1`, { headers: { authorization: headers.authorization }, signal: AbortSignal.timeout(30_000) });
    const body = (await response.json()) as { events?: unknown[] };
    if (!response.ok) throw new Error(`GET /api/v1/inbox?status=pending answered ${response.status}`);
    if (Array.isArray(body.events) && body.events.length === 0) return round((Date.now() - from) / 1000, 0);
    await sleep(2000);
  }
  return null;
}
