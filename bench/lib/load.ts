/**
 * The load generator: a fixed number of concurrent request loops over one undici Pool
 * (one connection per loop, pipelining 1), for a fixed duration or a fixed number of requests.
 * Latency is measured per request with process.hrtime.bigint(), from just before the request is
 * handed to undici until its whole response body has been read.
 */
import { Pool, type Dispatcher } from 'undici';
import { Samples, summarize, type LatencySummary } from './stats.ts';
import { machineBusySeconds, processCpuSeconds } from './children.ts';

export interface RequestSpec {
  method: Dispatcher.HttpMethod;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface LoadOptions {
  origin: string;
  connections: number;
  /** Run for this long (ms)… */
  durationMs?: number;
  /** …or until this many requests have been issued. */
  totalRequests?: number;
  request: (index: number) => RequestSpec;
  expectStatus: number;
  /** Events carried by each successful request (for events/s). */
  itemsPerRequest?: number;
  /** The server's pid, to report the CPU it used during the run. */
  serverPid?: number;
  /** CPU seconds used so far by the engines behind the server (--backends), reported apart from "other". */
  engineCpuSeconds?: () => number | undefined;
  /** Called every `progressEveryMs` with the number of successful requests so far. */
  onProgress?: (ok: number, elapsedMs: number) => void;
  progressEveryMs?: number;
  /** Stop early (e.g. SIGINT). */
  signal?: AbortSignal;
}

export interface LoadResult {
  connections: number;
  durationS: number;
  requests: number;
  ok: number;
  errors: number;
  /** A few distinct error samples: "status 500: {...}" or an exception message. */
  errorSamples: string[];
  requestsPerSecond: number;
  itemsPerSecond: number;
  /** Latency (ms) of successful requests. */
  latencyMs: LatencySummary;
  /** CPU used during the run, in cores (1.0 = one core busy all the time). */
  serverCpuCores?: number;
  loadGeneratorCpuCores: number;
  /** CPU used by the server's engines (PostgreSQL, Redis, Kafka, moto, ElasticMQ) during the run, in cores. */
  engineCpuCores?: number;
  /** CPU used by everything else on the machine during the run (cores): other processes disturb the figures. */
  otherCpuCores?: number;
}

const REQUEST_TIMEOUT_MS = 30_000;

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const pool = new Pool(options.origin, {
    connections: options.connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: REQUEST_TIMEOUT_MS,
    bodyTimeout: REQUEST_TIMEOUT_MS,
  });
  const samples = new Samples();
  const errorSamples = new Map<string, number>();
  let issued = 0;
  let ok = 0;
  let errors = 0;
  const startedNs = process.hrtime.bigint();
  const deadlineNs = options.durationMs !== undefined ? startedNs + BigInt(Math.round(options.durationMs * 1e6)) : undefined;
  const noteError = (text: string) => {
    errors++;
    const key = text.slice(0, 300);
    if (errorSamples.size < 5 || errorSamples.has(key)) errorSamples.set(key, (errorSamples.get(key) ?? 0) + 1);
  };
  const more = () => {
    if (options.signal?.aborted) return false;
    if (options.totalRequests !== undefined && issued >= options.totalRequests) return false;
    if (deadlineNs !== undefined && process.hrtime.bigint() >= deadlineNs) return false;
    return true;
  };

  const cpuStart = process.cpuUsage();
  const meter = cpuMeter(options.serverPid, options.engineCpuSeconds);
  let progressTimer: NodeJS.Timeout | undefined;
  if (options.onProgress) {
    progressTimer = setInterval(() => options.onProgress!(ok, Number(process.hrtime.bigint() - startedNs) / 1e6), options.progressEveryMs ?? 5000);
  }

  const loop = async () => {
    while (more()) {
      const spec = options.request(issued++);
      const t0 = process.hrtime.bigint();
      try {
        const response = await pool.request({
          method: spec.method,
          path: spec.path,
          headers: spec.headers,
          body: spec.body,
        });
        if (response.statusCode === options.expectStatus) {
          await response.body.arrayBuffer();
          samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
          ok++;
        } else {
          const text = await response.body.text().catch(() => '');
          noteError(`status ${response.statusCode}: ${text.slice(0, 200)}`);
        }
      } catch (error) {
        noteError(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
        // A refused/reset connection fails fast; do not spin.
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: options.connections }, loop));
  } finally {
    if (progressTimer) clearInterval(progressTimer);
  }
  const elapsedS = Number(process.hrtime.bigint() - startedNs) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  const cores = meter.stop(elapsedS, (cpu.user + cpu.system) / 1e6);
  await pool.close().catch(() => pool.destroy());

  return {
    connections: options.connections,
    durationS: round(elapsedS, 3),
    requests: ok + errors,
    ok,
    errors,
    errorSamples: [...errorSamples].map(([text, count]) => `${count}× ${text}`),
    requestsPerSecond: round(ok / elapsedS, 1),
    itemsPerSecond: round((ok * (options.itemsPerRequest ?? 1)) / elapsedS, 1),
    latencyMs: summarize(samples.values()),
    ...cores,
  };
}

type CpuCores = Pick<LoadResult, 'serverCpuCores' | 'loadGeneratorCpuCores' | 'engineCpuCores' | 'otherCpuCores'>;

/**
 * CPU used over a run, in cores: the server's (from /proc), the engines', the load generator's (the
 * caller's figure) and the rest of the machine's. Start it before the load; `stop` after.
 */
export function cpuMeter(serverPid: number | undefined, engineCpuSeconds?: () => number | undefined): { stop(elapsedS: number, generatorCpuS: number): CpuCores } {
  const serverStart = serverPid ? processCpuSeconds(serverPid) : undefined;
  const machineStart = machineBusySeconds();
  const engineStart = engineCpuSeconds?.();
  return {
    stop(elapsedS, generatorCpuS) {
      const serverEnd = serverPid ? processCpuSeconds(serverPid) : undefined;
      const machineEnd = machineBusySeconds();
      const engineEnd = engineCpuSeconds?.();
      const engineCores = engineStart !== undefined && engineEnd !== undefined ? (engineEnd - engineStart) / elapsedS : undefined;
      const serverCores = serverStart !== undefined && serverEnd !== undefined ? (serverEnd - serverStart) / elapsedS : undefined;
      const generatorCores = generatorCpuS / elapsedS;
      return {
        serverCpuCores: serverCores !== undefined ? round(serverCores, 3) : undefined,
        loadGeneratorCpuCores: round(generatorCores, 2),
        engineCpuCores: engineCores !== undefined ? round(engineCores, 2) : undefined,
        otherCpuCores:
          machineStart !== undefined && machineEnd !== undefined && serverCores !== undefined
            ? round(Math.max(0, (machineEnd - machineStart) / elapsedS - serverCores - generatorCores - (engineCores ?? 0)), 2)
            : undefined,
      };
    },
  };
}

/** One request at a time, `count` times: for read latency (the inbox). */
export async function runSequential(options: {
  origin: string;
  count: number;
  request: (index: number, previous: unknown) => RequestSpec | undefined;
  expectStatus: number;
  signal?: AbortSignal;
}): Promise<{ latencyMs: LatencySummary; ok: number; errors: number; errorSamples: string[]; last: unknown; bytes: number }> {
  const client = new Pool(options.origin, { connections: 1, pipelining: 1, headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS });
  const samples = new Samples();
  const errorSamples: string[] = [];
  let ok = 0;
  let errors = 0;
  let bytes = 0;
  let previous: unknown = undefined;
  try {
    for (let i = 0; i < options.count && !options.signal?.aborted; i++) {
      const spec = options.request(i, previous);
      if (!spec) break;
      const t0 = process.hrtime.bigint();
      const response = await client.request({ method: spec.method, path: spec.path, headers: spec.headers, body: spec.body });
      const text = await response.body.text();
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (response.statusCode === options.expectStatus) {
        samples.push(ms);
        ok++;
        bytes += Buffer.byteLength(text);
        previous = JSON.parse(text);
      } else {
        errors++;
        if (errorSamples.length < 5) errorSamples.push(`status ${response.statusCode}: ${text.slice(0, 200)}`);
        previous = undefined;
      }
    }
  } finally {
    await client.close().catch(() => client.destroy());
  }
  return { latencyMs: summarize(samples.values()), ok, errors, errorSamples, last: previous, bytes };
}

export function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
