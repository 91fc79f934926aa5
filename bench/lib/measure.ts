/** A probe, then a warm-up and a measured closed-loop run of one request shape. */
import { runLoad, type LoadResult, type RequestSpec } from './load.ts';
import { runWrk } from './wrk.ts';
import { fmtInt, fmtMs } from './stats.ts';
import type { BenchContext } from './context.ts';

/** One request first, so a missing route or a wrong status fails with a clear message, not 600k errors. */
export async function probe(origin: string, spec: RequestSpec, expect: number): Promise<void> {
  const response = await fetch(origin + spec.path, {
    method: spec.method,
    headers: spec.headers,
    body: typeof spec.body === "string" || spec.body === undefined ? spec.body : new Uint8Array(spec.body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (response.status !== expect) throw new Error(`${spec.method} ${spec.path} answered ${response.status} (expected ${expect}): ${text.slice(0, 300)}`);
}

/**
 * One closed-loop load of `durationMs` at `connections`, by `generator` (default --load-generator:
 * wrk with --pin). With wrk, `variants` (default 64) distinct requests (request(0 … variants-1)) are
 * sent in turn; the undici client calls `request(i)` for every request.
 */
export function closedLoad(
  ctx: BenchContext,
  options: {
    origin: string;
    connections: number;
    durationMs: number;
    request: (i: number) => RequestSpec;
    expectStatus: number;
    itemsPerRequest: number;
    serverPid?: number;
    engineCpuSeconds?: () => number | undefined;
    generator?: 'undici' | 'wrk';
    variants?: number;
  },
): Promise<LoadResult> {
  const { generator = ctx.settings.loadGenerator, variants = 64, expectStatus, ...common } = options;
  return generator === 'wrk'
    ? runWrk({ ...common, variants, threads: ctx.settings.wrkThreads, cpus: ctx.settings.pin?.load, signal: ctx.signal })
    : runLoad({ ...common, expectStatus, signal: ctx.signal });
}

export async function warmAndMeasure(
  ctx: BenchContext,
  name: string,
  origin: string,
  request: (i: number) => RequestSpec,
  expectStatus: number,
  itemsPerRequest: number,
  serverPid: number | undefined,
  markWindow?: (from: bigint, to: bigint) => void,
  connections = ctx.settings.connections,
  /**
   * The client: --load-generator by default. With wrk, `variants` distinct requests (request(0 …
   * variants-1)) are sent in turn; the undici client calls `request(i)` for every request.
   */
  client: { generator?: 'undici' | 'wrk'; variants?: number } = {},
): Promise<LoadResult & { warmup?: { requests: number; errors: number } }> {
  await probe(origin, request(0), expectStatus);
  const generator = client.generator ?? ctx.settings.loadGenerator;
  const load = (durationMs: number, measured: boolean) =>
    closedLoad(ctx, {
      origin,
      connections,
      durationMs,
      request,
      expectStatus,
      itemsPerRequest,
      serverPid: measured ? serverPid : undefined,
      engineCpuSeconds: measured ? ctx.engineCpu : undefined,
      generator,
      variants: client.variants,
    });
  let warmup: { requests: number; errors: number } | undefined;
  if (ctx.settings.warmupS > 0) {
    ctx.log(`  ${name}: warm-up ${ctx.settings.warmupS} s${generator === 'wrk' ? ' (wrk)' : ''}…`);
    const w = await load(ctx.settings.warmupS * 1000, false);
    warmup = { requests: w.requests, errors: w.errors };
    ctx.checkAborted();
  }
  ctx.log(`  ${name}: measuring ${ctx.settings.durationS} s at ${connections} connections${generator === 'wrk' ? ' (wrk)' : ''}…`);
  const from = process.hrtime.bigint();
  const result = await load(ctx.settings.durationS * 1000, true);
  markWindow?.(from, process.hrtime.bigint());
  ctx.checkAborted();
  ctx.log(
    `  ${name}: ${fmtInt(result.itemsPerSecond)} events/s, ${fmtInt(result.requestsPerSecond)} req/s, ` +
      `p50 ${fmtMs(result.latencyMs.p50)} ms, p99 ${fmtMs(result.latencyMs.p99)} ms, errors ${result.errors}`,
  );
  for (const e of result.errorSamples) ctx.log(`    error: ${e}`);
  return { ...result, warmup };
}

export function apiHeaders(apiKey: string): Record<string, string> {
  return { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
}