/**
 * The orchestrator's side of bench/receiver.ts: starts it in a child process and reads what it
 * recorded. Also the clock check between the two processes and arrival-rate arithmetic.
 */
import path from 'node:path';
import { freePort, spawnChild, waitForHealth, type Child } from './children.ts';
import { wallNow } from './open-loop.ts';

export interface ReceiverStats {
  requests: number;
  events: number;
  unique: number;
  duplicates: number;
  requestsWithoutIds: number;
  bytes: number;
  firstAt: number | null;
  lastAt: number | null;
  connections: { open: number; peak: number; total: number };
}

export interface ClockOffset {
  /** Receiver clock minus this process's clock (ms), from the exchange with the shortest round trip. */
  offsetMs: number;
  /** That exchange's round trip (ms): the offset is exact within ± half of it. */
  rttMs: number;
}

export interface Receiver {
  origin: string;
  pid: number;
  child: Child;
  url(p?: string): string;
  stats(): Promise<ReceiverStats>;
  records(): Promise<{ ids: string[]; times: number[] }>;
  /** First-arrival times of every event id, in arrival order. */
  times(): Promise<Float64Array>;
  reset(): Promise<void>;
  clockOffset(exchanges?: number): Promise<ClockOffset>;
  stop(): Promise<void>;
}

async function get(url: string, init?: RequestInit): Promise<Response> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  if (!response.ok) throw new Error(`${init?.method ?? 'GET'} ${url} answered ${response.status}`);
  return response;
}

export async function startReceiver(root: string, options: { echo: boolean; signal?: AbortSignal }): Promise<Receiver> {
  const port = await freePort();
  const child = spawnChild('receiver', ['--import', 'tsx', '--import', './bench/lib/exit-with-parent.mjs', path.join('bench', 'receiver.ts')], {
    cwd: root,
    env: { ...process.env, PORT: String(port) },
    echo: options.echo,
  });
  const origin = `http://127.0.0.1:${port}`;
  try {
    await waitForHealth(origin, child, 60_000, options.signal);
  } catch (error) {
    await child.stop(1000);
    throw error;
  }
  return {
    origin,
    pid: child.pid,
    child,
    url: (p = '/hook') => origin + p,
    stats: async () => (await (await get(`${origin}/_bench/stats`)).json()) as ReceiverStats,
    records: async () => (await (await get(`${origin}/_bench/records`)).json()) as { ids: string[]; times: number[] },
    times: async () => {
      const buffer = await (await get(`${origin}/_bench/times`)).arrayBuffer();
      return new Float64Array(buffer);
    },
    reset: async () => {
      await (await get(`${origin}/_bench/reset`, { method: 'POST' })).arrayBuffer();
    },
    clockOffset: async (exchanges = 20) => {
      let best: ClockOffset | undefined;
      for (let i = 0; i < exchanges; i++) {
        const t0 = wallNow();
        const { now } = (await (await get(`${origin}/_bench/clock`)).json()) as { now: number };
        const t1 = wallNow();
        const sample = { offsetMs: now - (t0 + t1) / 2, rttMs: t1 - t0 };
        if (!best || sample.rttMs < best.rttMs) best = sample;
      }
      return best!;
    },
    stop: () => child.stop(2000),
  };
}

/** Arrivals per second among sorted `times` within [from, to). */
export function rateBetween(times: Float64Array, from: number, to: number): { count: number; perSecond: number } {
  if (!(to > from)) return { count: 0, perSecond: 0 };
  const count = lowerBound(times, to) - lowerBound(times, from);
  return { count, perSecond: count / ((to - from) / 1000) };
}

/** Index of the first element ≥ value in an ascending array. */
export function lowerBound(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Arrivals per 1-second bucket from `from` (for a steadiness check: min/max of the buckets). */
export function perSecondBuckets(times: Float64Array, from: number, to: number): number[] {
  const buckets: number[] = [];
  for (let t = from; t + 1000 <= to + 1e-6; t += 1000) buckets.push(rateBetween(times, t, t + 1000).count);
  return buckets;
}
