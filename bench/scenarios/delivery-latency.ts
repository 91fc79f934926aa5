/** `delivery-latency`: events posted open-loop at --delivery-rate; 202 → webhook received at the receiver. */
import { round } from '../lib/load.ts';
import { deliveryEventBodies } from '../lib/payloads.ts';
import type { ClockOffset, ReceiverStats } from '../lib/receiver-client.ts';
import { cpuMeter, createSubscription, logErrorSamples, postEventsOpenLoop, probeDelivery, settleArrivals, withReceiver } from '../lib/delivery.ts';
import { withTriggersServer, type ServerRun } from '../lib/servers.ts';
import { fmtInt, fmtMs, summarize, type LatencySummary } from '../lib/stats.ts';
import type { BenchContext } from '../lib/context.ts';

export interface DeliveryLatencyResult {
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

export async function runDeliveryLatency(ctx: BenchContext): Promise<ServerRun<DeliveryLatencyResult>> {
  return withReceiver(ctx, (receiver) =>
    withTriggersServer(ctx, 'delivery-latency', async (t, mark) => {
      const hook = receiver.url('/hook/latency');
      const workflowId = await createSubscription(t, hook);
      const bodies = deliveryEventBodies(64);
      const firstDeliveryMs = await probeDelivery(ctx, t, receiver, bodies[0]);
      ctx.log(`  delivery-latency: subscription ${workflowId} (bench.*) → ${hook}; first delivery after ${firstDeliveryMs} ms`);
      const before = await receiver.clockOffset();
      await receiver.reset();

      const rate = ctx.settings.deliveryRate;
      const warmupCount = Math.round(ctx.settings.warmupS * rate);
      const measuredCount = Math.max(1, Math.round(ctx.settings.durationS * rate));
      const total = warmupCount + measuredCount;
      ctx.log(`  delivery-latency: ${fmtInt(rate)} events/s open-loop (fixed schedule), ${ctx.settings.warmupS} s warm-up + ${ctx.settings.durationS} s measured…`);
      let meter: ReturnType<typeof cpuMeter> | undefined;
      let fromNs = process.hrtime.bigint();
      const meterTimer = setTimeout(() => {
        fromNs = process.hrtime.bigint();
        meter = cpuMeter(ctx, { server: t.serverPid, receiver: receiver.pid });
      }, ctx.settings.warmupS * 1000);
      const { run, eventIds } = await postEventsOpenLoop(ctx, t, bodies, rate, total);
      clearTimeout(meterTimer);
      const cpuCores = meter ? meter() : {};
      mark(fromNs, process.hrtime.bigint());
      ctx.checkAborted();

      // Settle: wait (bounded) until every accepted event has reached the receiver.
      const { stats, settleWaitedS, after, arrival } = await settleArrivals(ctx, receiver, eventIds.filter(Boolean).length, before);

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
        warmupS: ctx.settings.warmupS,
        durationS: ctx.settings.durationS,
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
      ctx.log(
        `  delivery-latency: 202 → receipt p50 ${fmtMs(result.latencyMs.p50)} ms, p99 ${fmtMs(result.latencyMs.p99)} ms, max ${fmtMs(result.latencyMs.max)} ms; ` +
          `${fmtInt(delivered)} of ${fmtInt(accepted)} accepted delivered (${fmtInt(sent)} sent, ${missing} missing after ${settleWaitedS} s, ${late} after the window, ${stats.duplicates} duplicates)`,
      );
      ctx.log(`    clock offset receiver−client ${before.offsetMs.toFixed(3)} → ${after.offsetMs.toFixed(3)} ms (round trips ${before.rttMs.toFixed(2)} / ${after.rttMs.toFixed(2)} ms)`);
      logErrorSamples(ctx, run.errorSamples);
      return result;
    }),
  );
}