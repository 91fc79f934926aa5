/**
 * `steady`: a fixed open-loop load (--steady-rate, default 5,000 events/s) for --steady-duration
 * (default 60 s), every event matched to one subscription, optionally on a server that already
 * holds --steady-history events. Reports ingest p99, 202 → webhook p50/p99 and the backlog (accepted,
 * not yet delivered) when the load ends: the pipeline keeps up when that backlog is at most one
 * second of input and webhook p99 ≤ 1 s.
 */
import { round, runLoad } from '../lib/load.ts';
import { batchBody, deliveryEventBodies } from '../lib/payloads.ts';
import type { ClockOffset, ReceiverStats } from '../lib/receiver-client.ts';
import { apiHeaders } from '../lib/measure.ts';
import { cpuMeter, createSubscription, logErrorSamples, postEventsOpenLoop, probeDelivery, settleArrivals, sleep, withReceiver } from '../lib/delivery.ts';
import { withTriggersServer, type ServerRun, type Target } from '../lib/servers.ts';
import { fmtInt, fmtMs, summarize, type LatencySummary } from '../lib/stats.ts';
import type { BenchContext } from '../lib/context.ts';

export interface SteadyResult {
  ratePerSecond: number;
  durationS: number;
  /** Events stored before the load (not matched: posted before the subscription existed). */
  history: { events: number; seconds: number; settledS: number };
  workflowId: string;
  sent: number;
  accepted: number;
  errors: number;
  errorSamples: string[];
  acceptedPerSecond: number;
  /** Accepted by the time the last 202 was read, minus delivered by then. */
  backlogAtEnd: number;
  /** The backlog in seconds of input (backlogAtEnd / rate). */
  backlogSeconds: number;
  delivered: number;
  missing: number;
  settleWaitedS: number;
  duplicates: number;
  /** Request due → 202 read by the client (ingest latency under this load, client queueing included). */
  ingestMs: LatencySummary;
  /** 202 read by the client → webhook received. */
  webhookMs: LatencySummary;
  /** Deliveries per second at the receiver, per 10 s of the load (shows a growing backlog). */
  deliveredPer10s: number[];
  clock: { before: ClockOffset; after: ClockOffset };
  cpuCores: Record<string, number | undefined>;
  receiver: ReceiverStats;
}

/** Posts `count` unmatched events in batches of 100 and waits until none is pending. */
async function seedHistory(ctx: BenchContext, t: Target, count: number): Promise<SteadyResult['history']> {
  const started = Date.now();
  const size = 100;
  const bodies = Array.from({ length: 16 }, (_, v) => batchBody(size, v * size));
  const headers = apiHeaders(t.apiKey);
  ctx.log(`  steady: storing ${fmtInt(count)} events of history first (batches of ${size}, not matched)…`);
  const load = await runLoad({
    origin: t.origin,
    connections: 16,
    totalRequests: Math.ceil(count / size),
    durationMs: 3600_000,
    request: (i) => ({ method: 'POST', path: '/api/v1/events/batch', headers, body: bodies[i % bodies.length] }),
    expectStatus: 202,
    itemsPerRequest: size,
    serverPid: t.serverPid,
    signal: ctx.signal,
  });
  ctx.checkAborted();
  const seconds = (Date.now() - started) / 1000;
  const settleFrom = Date.now();
  for (;;) {
    ctx.checkAborted();
    const response = await fetch(`${t.origin}/api/v1/inbox?status=pending&limit=1`, { headers: { authorization: `Bearer ${t.apiKey}` } });
    const page = (await response.json()) as { events?: unknown[] };
    if (response.ok && page.events?.length === 0) break;
    if (Date.now() - settleFrom > 1800_000) throw new Error('the history was still pending after 30 min');
    await sleep(500);
  }
  const settledS = round((Date.now() - settleFrom) / 1000, 1);
  ctx.log(`  steady: ${fmtInt(load.ok * size)} events stored in ${seconds.toFixed(1)} s, settled (unmatched) ${settledS} s later`);
  return { events: load.ok * size, seconds: round(seconds, 1), settledS };
}

export async function runSteady(ctx: BenchContext): Promise<ServerRun<SteadyResult>> {
  return withReceiver(ctx, (receiver) =>
    withTriggersServer(ctx, 'steady', async (t, mark) => {
      const history = ctx.settings.steadyHistory > 0 ? await seedHistory(ctx, t, ctx.settings.steadyHistory) : { events: 0, seconds: 0, settledS: 0 };
      const hook = receiver.url('/hook/steady');
      const workflowId = await createSubscription(t, hook);
      const bodies = deliveryEventBodies(64);
      const firstDeliveryMs = await probeDelivery(ctx, t, receiver, bodies[0]);
      ctx.log(`  steady: subscription ${workflowId} (bench.*) → ${hook}; first delivery after ${firstDeliveryMs} ms`);
      const before = await receiver.clockOffset();
      await receiver.reset();

      const rate = ctx.settings.steadyRate;
      const durationS = ctx.settings.steadyDurationS;
      const total = Math.max(1, Math.round(durationS * rate));
      ctx.log(`  steady: ${fmtInt(rate)} events/s open-loop for ${durationS} s (${fmtInt(total)} events), every one matched…`);
      const meter = cpuMeter(ctx, { server: t.serverPid, receiver: receiver.pid });
      const fromNs = process.hrtime.bigint();
      const { run, eventIds } = await postEventsOpenLoop(ctx, t, bodies, rate, total);
      const atEnd = await receiver.stats();
      const cpuCores = meter();
      mark(fromNs, process.hrtime.bigint());
      ctx.checkAborted();
      const accepted = eventIds.filter(Boolean).length;
      const backlogAtEnd = Math.max(0, accepted - atEnd.unique);

      // Settle: the rest of the backlog, bounded (long enough to drain one that kept up).
      const { stats, settleWaitedS, after, arrival } = await settleArrivals(ctx, receiver, accepted, before);

      const ingest: number[] = [];
      const webhook: number[] = [];
      let delivered = 0;
      let missing = 0;
      for (let i = 0; i < run.issued; i++) {
        const id = eventIds[i];
        if (!id) continue;
        ingest.push(run.answeredAt[i] - run.dueAt[i]);
        const at = arrival.get(id);
        if (at === undefined) {
          missing++;
          continue;
        }
        delivered++;
        webhook.push(at - run.answeredAt[i]);
      }
      const start = run.startedAt;
      const arrivals = [...arrival.values()];
      const deliveredPer10s: number[] = [];
      for (let from = start; from < start + durationS * 1000; from += 10_000) {
        const to = Math.min(from + 10_000, start + durationS * 1000);
        deliveredPer10s.push(Math.round((arrivals.filter((a) => a >= from && a < to).length * 1000) / (to - from)));
      }
      const result: SteadyResult = {
        ratePerSecond: rate,
        durationS,
        history,
        workflowId,
        sent: run.issued,
        accepted,
        errors: run.issued - accepted,
        errorSamples: run.errorSamples,
        acceptedPerSecond: round(accepted / Math.max(0.001, (run.lastAnsweredAt - start) / 1000), 1),
        backlogAtEnd,
        backlogSeconds: round(backlogAtEnd / rate, 2),
        delivered,
        missing,
        settleWaitedS,
        duplicates: stats.duplicates,
        ingestMs: summarize(ingest),
        webhookMs: summarize(webhook),
        deliveredPer10s,
        clock: { before, after },
        cpuCores,
        receiver: stats,
      };
      ctx.log(
        `  steady: backlog at the end ${fmtInt(backlogAtEnd)} (${result.backlogSeconds} s of input); ingest p99 ${fmtMs(result.ingestMs.p99)} ms; ` +
          `202 → webhook p50 ${fmtMs(result.webhookMs.p50)} ms, p99 ${fmtMs(result.webhookMs.p99)} ms; ${fmtInt(delivered)} of ${fmtInt(accepted)} delivered ` +
          `(${missing} missing after ${settleWaitedS} s, ${stats.duplicates} duplicates); deliveries/s per 10 s: ${deliveredPer10s.map(fmtInt).join(', ')}`,
      );
      logErrorSamples(ctx, run.errorSamples);
      return result;
    }),
  );
}
