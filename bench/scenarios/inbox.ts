/** `inbox`: --inbox-events stored for one customer, then sequential reads of pages of 1,000 (newest, by cursor, filtered). */
import { processCpuSeconds } from '../lib/children.ts';
import { round, runLoad, runSequential } from '../lib/load.ts';
import { apiHeaders, probe } from '../lib/measure.ts';
import { batchBody, FILTER_EVENT_TYPE } from '../lib/payloads.ts';
import { withTriggersServer } from '../lib/servers.ts';
import { fmtInt, fmtMs, type LatencySummary } from '../lib/stats.ts';
import { MAX_BATCH, type BenchContext } from '../lib/context.ts';

interface InboxPageStats {
  requests: number;
  ok: number;
  errors: number;
  errorSamples: string[];
  eventsPerPage: number;
  bytesPerPage: number;
  latencyMs: LatencySummary;
}

export async function runInbox(ctx: BenchContext) {
  return withTriggersServer(ctx, 'inbox', async (t, mark) => {
    const headers = apiHeaders(t.apiKey);
    const getHeaders = { authorization: `Bearer ${t.apiKey}` };
    const target = ctx.settings.inboxEvents;
    const requests = Math.ceil(target / MAX_BATCH);
    const seedConnections = Math.min(ctx.settings.connections, 16);

    // 1. Seed through the public batch endpoint, 500 events a request, concurrently.
    ctx.log(`  inbox: storing ${fmtInt(target)} events for one customer (${fmtInt(requests)} batch requests of ≤${MAX_BATCH}, ${seedConnections} connections)…`);
    await probe(t.origin, { method: 'POST', path: '/api/v1/events/batch', headers, body: batchBody(1, 0) }, 202);
    const seedFrom = Date.now();
    const seed = await runLoad({
      origin: t.origin,
      connections: seedConnections,
      totalRequests: requests,
      durationMs: ctx.settings.inboxSeedTimeoutS * 1000,
      request: (i) => ({ method: 'POST', path: '/api/v1/events/batch', headers, body: batchBody(Math.min(MAX_BATCH, target - i * MAX_BATCH), 1 + i * MAX_BATCH) }),
      expectStatus: 202,
      itemsPerRequest: MAX_BATCH,
      serverPid: t.serverPid,
      engineCpuSeconds: ctx.engineCpu,
      signal: ctx.signal,
      progressEveryMs: 10_000,
      onProgress: (ok, ms) => ctx.log(`    … ${fmtInt(Math.min(target, ok * MAX_BATCH))} stored after ${(ms / 1000).toFixed(0)} s`),
    });
    ctx.checkAborted();
    const stored = 1 + Math.min(target, seed.ok * MAX_BATCH); // +1: the probe's event
    const seedS = (Date.now() - seedFrom) / 1000;
    ctx.log(`  inbox: stored ${fmtInt(stored)} events in ${seedS.toFixed(1)} s (${fmtInt(stored / seedS)} events/s, ${seed.errors} failed requests)`);
    for (const e of seed.errorSamples) ctx.log(`    error: ${e}`);

    // 2. Let the matcher work off the backlog (every event leaves 'pending'), so the reads are measured on a quiet server.
    let settled: { waitedS: number; settled: boolean; note?: string } = { waitedS: 0, settled: false, note: 'not waited (--inbox-settle 0)' };
    if (ctx.settings.inboxSettleS > 0) {
      const from = Date.now();
      settled = { waitedS: 0, settled: false };
      let idleChecks = 0;
      while (Date.now() - from < ctx.settings.inboxSettleS * 1000 && !ctx.signal.aborted) {
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
      ctx.log(`  inbox: backlog ${settled.settled ? 'processed' : 'NOT processed'} after ${settled.waitedS} s${settled.note ? ` (${settled.note})` : ''}`);
    }
    ctx.checkAborted();

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
    await runSequential({ origin: t.origin, count: 10, request: () => ({ method: 'GET', path: firstPath, headers: getHeaders }), expectStatus: 200, signal: ctx.signal });
    ctx.log(`  inbox: ${ctx.settings.inboxRequests} sequential GET ${firstPath}…`);
    const from = process.hrtime.bigint();
    const firstCounts: number[] = [];
    const countFirst = countEvents(firstCounts);
    const first = await runSequential({
      origin: t.origin,
      count: ctx.settings.inboxRequests,
      request: (_i, previous) => {
        if (previous !== undefined) countFirst(previous);
        return { method: 'GET', path: firstPath, headers: getHeaders };
      },
      expectStatus: 200,
      signal: ctx.signal,
    });
    countFirst(first.last);
    ctx.checkAborted();

    // 4. Deeper pages, following the cursor from the newest.
    const deepCounts: number[] = [];
    const countDeep = countEvents(deepCounts);
    let reachedEnd = false;
    const deep = await runSequential({
      origin: t.origin,
      count: ctx.settings.inboxPages,
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
      signal: ctx.signal,
    });
    if (!reachedEnd) countDeep(deep.last);
    ctx.checkAborted();

    // 5. Filtered by event_type (a quarter of the events match).
    const filteredPath = `/api/v1/inbox?limit=1000&event_type=${encodeURIComponent(FILTER_EVENT_TYPE)}`;
    const filteredCounts: number[] = [];
    const countFiltered = countEvents(filteredCounts);
    const filteredRequests = Math.max(1, Math.round(ctx.settings.inboxRequests / 4));
    const filtered = await runSequential({
      origin: t.origin,
      count: filteredRequests,
      request: (_i, previous) => {
        if (previous !== undefined) countFiltered(previous);
        return { method: 'GET', path: filteredPath, headers: getHeaders };
      },
      expectStatus: 200,
      signal: ctx.signal,
    });
    countFiltered(filtered.last);
    mark(from, process.hrtime.bigint());

    const result = {
      storedEvents: stored,
      seed: { seconds: round(seedS, 1), eventsPerSecond: round(stored / seedS, 0), failedRequests: seed.errors, errorSamples: seed.errorSamples, batchLatencyMs: seed.latencyMs, serverCpuCores: seed.serverCpuCores, otherCpuCores: seed.otherCpuCores },
      backlog: settled,
      firstPage: { path: firstPath, ...pageStats(first, firstCounts, ctx.settings.inboxRequests) },
      cursorPages: { path: `${firstPath}&cursor=…`, ...pageStats(deep, deepCounts, ctx.settings.inboxPages), eventsVisited: deepCounts.reduce((a, b) => a + b, 0) },
      filteredPage: { path: filteredPath, ...pageStats(filtered, filteredCounts, filteredRequests) },
    };
    for (const [name, s] of [['first page', result.firstPage], ['cursor pages', result.cursorPages], ['event_type page', result.filteredPage]] as const) {
      ctx.log(`  inbox ${name}: p50 ${fmtMs(s.latencyMs.p50)} ms, p95 ${fmtMs(s.latencyMs.p95)} ms, p99 ${fmtMs(s.latencyMs.p99)} ms (${s.ok} ok, ${s.errors} errors, ${s.eventsPerPage} events/page)`);
      for (const e of s.errorSamples) ctx.log(`    error: ${e}`);
    }
    return result;
  });
}
export type InboxResult = Awaited<ReturnType<typeof runInbox>>['result'];
