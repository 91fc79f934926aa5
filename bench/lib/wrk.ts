/**
 * The second load generator: Debian's `wrk` (/usr/bin/wrk, written in C, one epoll loop per
 * thread), optionally pinned to one CPU with `taskset` while the server under test is pinned to
 * another (`--pin`). Used by the closed-loop scenarios (ingest, ingest-traced, batch, bare) when
 * `--load-generator wrk` (the default with `--pin`), so bare node:http and Triggers are compared on
 * the same one-core budget with a client that is not the bottleneck.
 *
 * The requests (the scenario's own bodies, as raw HTTP/1.1 text) go to wrk through a file read
 * by a small Lua script, which cycles through them and prints wrk's summary and latency
 * percentiles as one JSON line when the run ends. The CPU wrk used comes from the shell's `times`
 * (its children's user + system time), so it is exact even though wrk has exited.
 */
import { execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cpuMeter, round, type LoadOptions, type LoadResult, type RequestSpec } from './load.ts';

export const WRK = process.env.TRIGGERS_BENCH_WRK ?? '/usr/bin/wrk';
export const TASKSET = '/usr/bin/taskset';

/** Why the wrk runs cannot happen on this machine (undefined: they can). */
export function wrkMissing(needTaskset: boolean): string | undefined {
  const missing: string[] = [];
  for (const [file, pkg] of [[WRK, 'wrk'], ...(needTaskset ? [[TASKSET, 'util-linux']] : [])] as const) {
    try {
      accessSync(file, constants.X_OK);
    } catch {
      missing.push(`${file} not found (Debian/Ubuntu: sudo apt-get install ${pkg})`);
    }
  }
  return missing.length ? missing.join('; ') : undefined;
}

/** `wrk --version`'s first words, e.g. "wrk debian/4.1.0-3+b2 [epoll]". */
let version: string | undefined;
export function wrkVersion(): string {
  return (version ??= readWrkVersion());
}

function readWrkVersion(): string {
  let text = '';
  try {
    text = execFileSync(WRK, ['--version'], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  } catch (error) {
    // wrk prints its version and usage, then exits 1.
    const e = error as { stdout?: Buffer; stderr?: Buffer };
    text = `${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
  return text.split('\n')[0].replace(/\s+Copyright.*$/, '').trim() || 'wrk';
}

/** The Lua script: load the raw requests, cycle through them, print one JSON line at the end. */
const SCRIPT = `
local requests = {}
local n = 0
local f = assert(io.open(os.getenv("TRIGGERS_WRK_REQUESTS"), "rb"))
local data = f:read("*a")
f:close()
local pos = 1
while pos <= #data do
  local nl = string.find(data, "\\n", pos, true)
  local len = tonumber(string.sub(data, pos, nl - 1))
  n = n + 1
  requests[n] = string.sub(data, nl + 1, nl + len)
  pos = nl + len + 1
end
local i = 0
request = function()
  i = i % n + 1
  return requests[i]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nTRIGGERS_WRK_RESULT {"duration_us":%d,"requests":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"min":%d,"mean":%.3f,"max":%d,"p50":%d,"p90":%d,"p95":%d,"p99":%d,"p999":%d}\\n',
    summary.duration, summary.requests, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max, latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency:percentile(99.9)))
end
`;

interface WrkSummary {
  duration_us: number;
  requests: number;
  bytes: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  min: number;
  mean: number;
  max: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
}

/** One request as the bytes wrk sends. */
function rawRequest(origin: string, spec: RequestSpec): Buffer {
  const body = spec.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(spec.body) ? spec.body : Buffer.from(spec.body);
  const host = new URL(origin).host;
  const lines = [`${spec.method} ${spec.path} HTTP/1.1`, `Host: ${host}`];
  for (const [k, v] of Object.entries(spec.headers ?? {})) lines.push(`${k}: ${v}`);
  lines.push(`Content-Length: ${body.length}`);
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n'), body]);
}

export interface WrkOptions extends Pick<LoadOptions, 'origin' | 'connections' | 'request' | 'itemsPerRequest' | 'serverPid' | 'engineCpuSeconds' | 'signal'> {
  durationMs: number;
  /** Distinct requests to cycle through (request(0 … variants-1)). */
  variants: number;
  threads: number;
  /** taskset CPU list for wrk (e.g. "1"), or undefined to leave it unpinned. */
  cpus?: string;
}

export interface WrkLoadResult extends LoadResult {
  loadGenerator: string;
  /** Responses wrk counted as errors by kind (status: answers ≥ 400). */
  wrkErrors: { connect: number; read: number; write: number; status: number; timeout: number };
}

/**
 * Runs wrk against `origin` for `durationMs` (rounded to whole seconds, at least 1), closed loop at
 * `connections`. wrk counts every answer below 400 as a success: the caller probes the expected
 * status first (measure.ts), so a route answering something else fails before the load.
 */
export async function runWrk(options: WrkOptions): Promise<WrkLoadResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'triggers-bench-wrk-'));
  try {
    const parts: Buffer[] = [];
    for (let i = 0; i < options.variants; i++) {
      const raw = rawRequest(options.origin, options.request(i));
      parts.push(Buffer.from(`${raw.length}\n`), raw);
    }
    writeFileSync(path.join(dir, 'requests'), Buffer.concat(parts));
    writeFileSync(path.join(dir, 'script.lua'), SCRIPT);
    const seconds = Math.max(1, Math.round(options.durationMs / 1000));
    const wrkArgs = [
      `-t${options.threads}`,
      `-c${Math.max(options.connections, options.threads)}`,
      `-d${seconds}s`,
      '--timeout',
      '30s',
      '-s',
      path.join(dir, 'script.lua'),
      options.origin + '/',
    ];
    const command = options.cpus !== undefined ? [TASKSET, '-c', options.cpus, WRK, ...wrkArgs] : [WRK, ...wrkArgs];
    // bash's `times` prints the shell's and then its children's user/system CPU time.
    const quoted = command.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const meter = cpuMeter(options.serverPid, options.engineCpuSeconds);
    const started = process.hrtime.bigint();
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn('/bin/bash', ['-c', `${quoted}; rc=$?; echo TRIGGERS_WRK_TIMES; times; exit $rc`], {
        env: { ...process.env, TRIGGERS_WRK_REQUESTS: path.join(dir, 'requests') },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
      const onAbort = () => child.kill('SIGINT');
      options.signal?.addEventListener('abort', onAbort, { once: true });
      child.once('error', reject);
      child.once('close', (c) => {
        options.signal?.removeEventListener('abort', onAbort);
        resolve({ code: c, stdout: out, stderr: err });
      });
    });
    const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
    const line = stdout.split('\n').find((l) => l.startsWith('TRIGGERS_WRK_RESULT '));
    if (code !== 0 || !line) throw new Error(`wrk failed (exit ${code}): ${(stderr + stdout).trim().slice(0, 500)}`);
    const s = JSON.parse(line.slice('TRIGGERS_WRK_RESULT '.length)) as WrkSummary;
    // `times`: "0m0.001s 0m0.002s\n0m1.234s 0m0.567s" — the second line is the children's.
    const timesLine = stdout.split('TRIGGERS_WRK_TIMES\n')[1]?.split('\n')[1] ?? '';
    const wrkCpuS = [...timesLine.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0);
    const measuredS = s.duration_us / 1e6;
    const transport = s.connect + s.read + s.write + s.timeout;
    const ok = Math.max(0, s.requests - s.status);
    const ms = (us: number) => round(us / 1000, 3);
    const errorSamples: string[] = [];
    for (const kind of ['connect', 'read', 'write', 'status', 'timeout'] as const) {
      if (s[kind] > 0) errorSamples.push(`${s[kind]}× wrk ${kind} error${kind === 'status' ? ' (answer ≥ 400)' : ''}`);
    }
    return {
      loadGenerator: `${wrkVersion()}, ${options.threads} thread${options.threads === 1 ? '' : 's'}${options.cpus !== undefined ? `, CPU ${options.cpus}` : ''}`,
      connections: options.connections,
      durationS: round(measuredS, 3),
      requests: s.requests + transport,
      ok,
      errors: s.status + transport,
      errorSamples,
      wrkErrors: { connect: s.connect, read: s.read, write: s.write, status: s.status, timeout: s.timeout },
      requestsPerSecond: round(ok / measuredS, 1),
      itemsPerSecond: round((ok * (options.itemsPerRequest ?? 1)) / measuredS, 1),
      // wrk's histogram (µs resolution, over every completed request, errors included).
      latencyMs: { count: s.requests, min: ms(s.min), mean: ms(s.mean), p50: ms(s.p50), p90: ms(s.p90), p95: ms(s.p95), p99: ms(s.p99), p999: ms(s.p999), max: ms(s.max) },
      ...meter.stop(elapsedS, wrkCpuS),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
