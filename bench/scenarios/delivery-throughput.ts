/** `delivery-throughput`: a pre-loaded backlog drained to the receiver (deliveries/s), beside a bare undici client. */
import { round, runLoad, type LoadResult } from '../lib/load.ts';
import { wallNow } from '../lib/open-loop.ts';
import { deliveryBatchBody, deliveryEventBodies, webhookBodyParts } from '../lib/payloads.ts';
import { perSecondBuckets, rateBetween, type Receiver, type ReceiverStats } from '../lib/receiver-client.ts';
import { apiHeaders, warmAndMeasure } from '../lib/measure.ts';
import { cpuMeter, createSubscription, probeDelivery, sleep, withReceiver } from '../lib/delivery.ts';
import { withTriggersServer, type ServerRun } from '../lib/servers.ts';
import { fmtInt } from '../lib/stats.ts';
import type { BenchContext } from '../lib/context.ts';

export interface DeliveryThroughputResult {
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

/** The run's figures beside the bare undici client's, and their ratio. */
export type DeliveryThroughputReport = DeliveryThroughputResult & { bareUndici?: LoadResult; bareUndiciError?: string; ratioToBare?: number };

export async function runDeliveryThroughput(ctx: BenchContext): Promise<ServerRun<DeliveryThroughputReport>> {
  return withReceiver(ctx, async (receiver) => {
    const run = await withTriggersServer(ctx, 'delivery-throughput', async (t, mark): Promise<DeliveryThroughputResult> => {
      const hook = receiver.url('/hook/throughput');
      const workflowId = await createSubscription(t, hook);
      const firstDeliveryMs = await probeDelivery(ctx, t, receiver, deliveryEventBodies(1)[0]);
      ctx.log(`  delivery-throughput: subscription ${workflowId} (bench.*) → ${hook}; first delivery after ${firstDeliveryMs} ms`);
      const offset = (await receiver.clockOffset()).offsetMs;
      await receiver.reset();

      // 1. Pre-load: post batches as fast as the server takes them until the backlog (accepted but
      //    not yet delivered) would last the drain's warm-up + measurement at the delivery rate
      //    seen so far (× 2.5, since the drain runs without ingest competing for the CPU), and at
      //    least at 6,000 deliveries/s (above the 5,000/s target, so a pass is never cut short).
      const batch = ctx.settings.deliveryBatch;
      const connections = Math.min(ctx.settings.connections, 16);
      const headers = apiHeaders(t.apiKey);
      const bodies = Array.from({ length: 16 }, (_, v) => deliveryBatchBody(batch, v * batch));
      const windowS = ctx.settings.warmupS + ctx.settings.durationS;
      const stop = new AbortController();
      const onAbort = () => stop.abort();
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      let acceptedSoFar = 0;
      let stoppedBecause = `--delivery-preload ${ctx.settings.deliveryPreloadS} s reached`;
      const history: { at: number; delivered: number }[] = [];
      const preloadFrom = wallNow();
      let preloadMeter: ReturnType<typeof cpuMeter> | undefined;
      const meterTimer = setTimeout(() => (preloadMeter = cpuMeter(ctx, { server: t.serverPid, receiver: receiver.pid })), ctx.settings.warmupS * 1000);
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
      ctx.log(`  delivery-throughput: pre-loading batches of ${batch} at ${connections} connections (≤ ${fmtInt(ctx.settings.deliveryMaxEvents)} events, ≤ ${ctx.settings.deliveryPreloadS} s)…`);
      let preload: LoadResult;
      try {
        preload = await runLoad({
          origin: t.origin,
          connections,
          totalRequests: Math.ceil(ctx.settings.deliveryMaxEvents / batch),
          durationMs: ctx.settings.deliveryPreloadS * 1000,
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
        ctx.signal.removeEventListener('abort', onAbort);
      }
      ctx.checkAborted();
      const preloadTo = wallNow();
      const preloadCpu = preloadMeter ? preloadMeter() : {};
      if (preload.ok * batch >= ctx.settings.deliveryMaxEvents) stoppedBecause = `--delivery-max-events ${ctx.settings.deliveryMaxEvents} reached`;
      const accepted = preload.ok * batch; // the probe's event arrived before the reset
      const atDrain = await receiver.stats();
      const backlogAtStart = accepted - atDrain.unique;
      ctx.log(
        `  delivery-throughput: pre-loaded ${fmtInt(accepted)} events in ${((preloadTo - preloadFrom) / 1000).toFixed(1)} s ` +
          `(${fmtInt(preload.itemsPerSecond)} accepted/s, ${preload.errors} failed requests; stopped: ${stoppedBecause}); backlog ${fmtInt(backlogAtStart)}`,
      );
      for (const e of preload.errorSamples) ctx.log(`    error: ${e}`);

      // 2. Drain: the deliveries of the backlog, measured after a warm-up, while it lasts.
      const drainFrom = wallNow();
      const measureFrom = drainFrom + ctx.settings.warmupS * 1000;
      const measureTo = measureFrom + ctx.settings.durationS * 1000;
      let drainMeter: ReturnType<typeof cpuMeter> | undefined;
      let fromNs = process.hrtime.bigint();
      let toNs: bigint | undefined;
      const stopMeterAt = (s: Awaited<ReturnType<Receiver['stats']>>) => s.unique >= accepted;
      await sleep(Math.max(0, measureFrom - wallNow()));
      if ((await receiver.stats()).unique < accepted) {
        fromNs = process.hrtime.bigint();
        drainMeter = cpuMeter(ctx, { server: t.serverPid, receiver: receiver.pid });
        ctx.log(`  delivery-throughput: measuring deliveries for up to ${ctx.settings.durationS} s while the backlog lasts…`);
        while (wallNow() < measureTo) {
          ctx.checkAborted();
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
      const backlogLasted = exhaustedAt >= measureTo && drainWindowS >= ctx.settings.durationS * 0.95;
      const during = rateBetween(arrivals, preloadFrom + ctx.settings.warmupS * 1000, preloadTo);
      const useDrain = drainWindowS >= Math.min(2, ctx.settings.durationS);
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
      ctx.log(
        `  delivery-throughput: drain ${fmtInt(result.drain.deliveriesPerSecond)} deliveries/s over ${result.drain.windowS} s ` +
          `(1-s buckets ${fmtInt(result.drain.perSecondMin)}–${fmtInt(result.drain.perSecondMax)}; backlog ${backlogLasted ? 'lasted' : 'ran out'}); ` +
          `while posting ${fmtInt(result.preload.deliveredPerSecond)} deliveries/s; deliverer used ≤ ${final.connections.peak} connections`,
      );
      return result;
    });

    // 3. The same receiver driven by a bare undici client (no Triggers server running now).
    const connections = ctx.settings.deliveryConnections ?? (run.result.delivererConnectionsPeak > 0 ? run.result.delivererConnectionsPeak : 128);
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
        ctx,
        'bare-undici',
        receiver.origin,
        () => ({ method: 'POST', path: '/hook/bare', headers: bareHeaders, body: `${head}00000000-0000-7000-8000-${String(n++).padStart(12, '0')}${tail}` }),
        200,
        1,
        receiver.pid,
        undefined,
        connections,
        { generator: 'undici' }, // "bare undici" by definition: the deliverer's own HTTP client
      );
    } catch (error) {
      bareUndiciError = error instanceof Error ? error.message : String(error);
      ctx.log(`  bare-undici FAILED: ${bareUndiciError}`);
    }
    const ratioToBare = bareUndici && bareUndici.requestsPerSecond > 0 ? round(run.result.sustainedDeliveriesPerSecond / bareUndici.requestsPerSecond, 3) : undefined;
    if (ratioToBare !== undefined) ctx.log(`  delivery-throughput: ${fmtInt(run.result.sustainedDeliveriesPerSecond)} deliveries/s / ${fmtInt(bareUndici!.requestsPerSecond)} bare undici req/s = ${ratioToBare.toFixed(3)}`);
    return { ...run, result: { ...run.result, bareUndici, bareUndiciError, ratioToBare } };
  });
}