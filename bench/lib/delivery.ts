/** What both delivery scenarios use: the receiver process, the subscription to it, a first delivery, CPU meters. */
import { machineBusySeconds, processCpuSeconds } from './children.ts';
import { round } from './load.ts';
import { runOpenLoop, type OpenLoopResult } from './open-loop.ts';
import { DELIVERY_SELECTOR } from './payloads.ts';
import { startReceiver, type ClockOffset, type Receiver, type ReceiverStats } from './receiver-client.ts';
import { apiHeaders, probe } from './measure.ts';
import type { Target } from './servers.ts';
import type { BenchContext } from './context.ts';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function withReceiver<T>(ctx: BenchContext, fn: (receiver: Receiver) => Promise<T>): Promise<T> {
  const receiver = await startReceiver(ctx.root, { echo: ctx.settings.echo, signal: ctx.signal });
  ctx.log(`  webhook receiver up on ${receiver.origin} (pid ${receiver.pid}, its own process)`);
  try {
    return await fn(receiver);
  } finally {
    await receiver.stop();
  }
}

/** `POST /api/v1/subscriptions` for `bench.*` events to the receiver; returns the workflow id. */
export async function createSubscription(t: Target, webhookUrl: string): Promise<string> {
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
export async function probeDelivery(ctx: BenchContext, t: Target, receiver: Receiver, body: Buffer, timeoutMs = 60_000): Promise<number> {
  const before = (await receiver.stats()).unique;
  const started = Date.now();
  await probe(t.origin, { method: 'POST', path: '/api/v1/events', headers: apiHeaders(t.apiKey), body }, 202);
  while (Date.now() - started < timeoutMs) {
    ctx.checkAborted();
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

/**
 * Waits (up to --delivery-settle) until `accepted` events have reached the receiver, then reads
 * every first arrival in the client's clock (the receiver's minus the offset measured before and now).
 */
export async function settleArrivals(
  ctx: BenchContext,
  receiver: Receiver,
  accepted: number,
  before: ClockOffset,
): Promise<{ stats: ReceiverStats; settleWaitedS: number; after: ClockOffset; arrival: Map<string, number> }> {
  const settleFrom = Date.now();
  let stats = await receiver.stats();
  while (stats.unique < accepted && Date.now() - settleFrom < ctx.settings.deliverySettleS * 1000) {
    ctx.checkAborted();
    await sleep(100);
    stats = await receiver.stats();
  }
  const settleWaitedS = round((Date.now() - settleFrom) / 1000, 1);
  const after = await receiver.clockOffset();
  const offset = (before.offsetMs + after.offsetMs) / 2;
  const records = await receiver.records();
  const arrival = new Map<string, number>();
  for (let k = 0; k < records.ids.length; k++) arrival.set(records.ids[k], records.times[k] - offset);
  return { stats, settleWaitedS, after, arrival };
}

/** CPU used (cores) between start and end by named processes, this process and everything else. */
export function cpuMeter(ctx: BenchContext, pids: Record<string, number | undefined>) {
  const wall0 = performance.now();
  const own0 = process.cpuUsage();
  const machine0 = machineBusySeconds();
  const sources: Record<string, () => number | undefined> = Object.fromEntries(
    Object.entries(pids).map(([k, pid]) => [k, () => (pid ? processCpuSeconds(pid) : undefined)]),
  );
  if (ctx.engineCpu) sources.engines = ctx.engineCpu;
  for (const [name, read] of Object.entries(ctx.engineCpuByName)) sources[`engine:${name}`] = read;
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
/**
 * Posts `total` single events to `t` open-loop at `ratePerSecond` (the bodies in turn, over the
 * bench's connections) and keeps each 202's event id by request index (undefined: not accepted).
 * Logs the run's error samples.
 */
export async function postEventsOpenLoop(
  ctx: BenchContext,
  t: Target,
  bodies: readonly Buffer[],
  ratePerSecond: number,
  total: number,
): Promise<{ run: OpenLoopResult; eventIds: (string | undefined)[] }> {
  const eventIds: (string | undefined)[] = new Array(total);
  const headers = apiHeaders(t.apiKey);
  const run = await runOpenLoop({
    origin: t.origin,
    connections: ctx.settings.connections,
    ratePerSecond,
    total,
    request: (i) => ({ method: 'POST', path: '/api/v1/events', headers, body: bodies[i % bodies.length] }),
    expectStatus: 202,
    onAccepted: (i, body) => {
      eventIds[i] = (body as { event_id?: string } | undefined)?.event_id;
    },
    signal: ctx.signal,
  });
  return { run, eventIds };
}

/** Logs a run's error samples, indented under its scenario's lines. */
export function logErrorSamples(ctx: BenchContext, samples: readonly string[]): void {
  for (const e of samples) ctx.log(`    error: ${e}`);
}
