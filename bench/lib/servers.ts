/** The servers the scenarios measure: a fresh all-in-one per scenario (or --url), and the bare node:http baseline. */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, spawnChild, waitForHealth, type Child } from './children.ts';
import { prepareBackends, type PreparedBackends } from '@triggers/testkit';
import { summarizeProfile, type ProfileSummary } from './cpuprofile.ts';
import { ADMIN_TOKEN, type BenchContext } from './context.ts';

export interface Target {
  origin: string;
  apiKey: string;
  customerId: string;
  serverPid?: number;
  child?: Child;
}

export function serverEnv(ctx: BenchContext, port: number, dataDir: string, backendEnv: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // Reproducible: only what the bench sets (OTEL_* too: tracing is on only in the traced scenario).
    if (k === 'PORT' || k.startsWith('TRIGGERS_') || k.startsWith('OTEL_')) continue;
    env[k] = v;
  }
  return {
    ...env,
    // The AWS SDK's once-per-process notice that its next major needs Node 22.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...backendEnv,
    PORT: String(port),
    TRIGGERS_HOST: '127.0.0.1',
    TRIGGERS_DATA_DIR: dataDir,
    TRIGGERS_ADMIN_TOKEN: ADMIN_TOKEN,
    TRIGGERS_LOG_LEVEL: 'warn',
    TRIGGERS_RATE_LIMIT_PER_SECOND: '10000000', // the maximum the config accepts; the limiter must not throttle the bench
    ...ctx.settings.serverEnv,
  };
}

export async function adminRequest(ctx: BenchContext, origin: string, method: string, urlPath: string, body: unknown): Promise<{ status: number; json: any; text: string }> {
  const response = await fetch(origin + urlPath, {
    method,
    headers: { authorization: `Bearer ${ctx.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text };
}

export async function createCustomer(ctx: BenchContext, origin: string, name: string): Promise<{ apiKey: string; customerId: string }> {
  const created = await adminRequest(ctx, origin, 'POST', '/admin/test-customer', { name, email: `${name.replace(/\W+/g, '-')}@bench.test` });
  if (created.status !== 201 || typeof created.json?.api_key !== 'string') {
    throw new Error(`POST /admin/test-customer answered ${created.status}: ${created.text.slice(0, 300)}`);
  }
  if (ctx.settings.url) {
    // A server we did not start may have a low default rate limit: lift it for this customer.
    const patched = await adminRequest(ctx, origin, 'PATCH', `/admin/customers/${created.json.customer_id}`, { rate_limit_per_second: 10_000_000 });
    if (patched.status >= 300) ctx.log(`warning: could not lift the rate limit (${patched.status}); results may be throttled`);
    else await new Promise((r) => setTimeout(r, 1100)); // "applies within 1 s"
  }
  return { apiKey: created.json.api_key, customerId: created.json.customer_id };
}

export interface ServerRun<T> {
  result: T;
  startupMs?: number;
  profile?: ProfileSummary;
  /** Other threads of the server that ran project code in the window (e.g. a matcher/deliverer worker thread). */
  threadProfiles?: { thread: string; summary: ProfileSummary }[];
  profileError?: string;
}

/** Starts a fresh server (or uses --url), runs `fn`, and always stops the server. */
export async function withTriggersServer<T>(
  ctx: BenchContext,
  scenario: string,
  fn: (target: Target, markWindow: (from: bigint, to: bigint) => void) => Promise<T>,
  /** Variables for this server only, beyond the bench's own (e.g. OTEL_* for the traced run). */
  extraEnv: Record<string, string> = {},
): Promise<ServerRun<T>> {
  let window: [number, number] | undefined;
  const markWindow = (from: bigint, to: bigint) => {
    window = [Number(from / 1000n), Number(to / 1000n)];
  };
  if (ctx.settings.url) {
    const customer = await createCustomer(ctx, ctx.settings.url, `bench-${scenario}-${Date.now()}`);
    return { result: await fn({ origin: ctx.settings.url, ...customer }, markWindow) };
  }
  const port = await freePort();
  // On engines: a schema, queue/topic prefix and table of this server's own (removed afterwards).
  let prepared: PreparedBackends | undefined;
  if (ctx.preset.name !== 'sqlite') {
    prepared = await prepareBackends(ctx.preset.choice, ctx.engineAddresses!, `bench-${scenario}`);
    const spaces = [
      prepared.postgresSchema && `schema ${prepared.postgresSchema}`,
      prepared.env.TRIGGERS_KAFKA_TOPIC_PREFIX && `topics ${prepared.env.TRIGGERS_KAFKA_TOPIC_PREFIX}-*`,
      prepared.env.TRIGGERS_SQS_QUEUE_PREFIX && `queues ${prepared.env.TRIGGERS_SQS_QUEUE_PREFIX}-*`,
      prepared.env.TRIGGERS_DYNAMODB_TABLE && `table ${prepared.env.TRIGGERS_DYNAMODB_TABLE}`,
    ].filter(Boolean);
    ctx.log(`  backends ${ctx.preset.name}: ${spaces.join(', ')}`);
  }
  const dataDir = prepared?.dataDir ?? mkdtempSync(path.join(os.tmpdir(), `triggers-bench-${scenario}-`));
  ctx.tempDirs.add(dataDir);
  // One folder per server: node writes one profile per thread (the tsx loader runs in its own
  // thread), named CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; thread 0 is the main thread.
  const profileDir = path.join(ctx.resultsDir, 'profiles', `${scenario}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const nodeArgs = ctx.settings.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  if (ctx.settings.cpuProf) mkdirSync(profileDir, { recursive: true });
  const child = spawnChild(`server:${scenario}`, [...nodeArgs, '--import', 'tsx', '--import', './bench/lib/exit-with-parent.mjs', 'services/all-in-one/src/main.ts'], {
    cwd: ctx.root,
    env: { ...serverEnv(ctx, port, dataDir, prepared?.env), ...extraEnv },
    echo: ctx.settings.echo,
    cpus: ctx.settings.pin?.server,
  });
  const origin = `http://127.0.0.1:${port}`;
  try {
    const startupMs = await waitForHealth(origin, child, 90_000, ctx.signal);
    ctx.log(`  server for ${scenario} up on ${origin} (pid ${child.pid}, ${startupMs} ms, data in ${dataDir})`);
    const customer = await createCustomer(ctx, origin, `bench-${scenario}`);
    const result = await fn({ origin, ...customer, serverPid: child.pid, child }, markWindow);
    if (child.exited) throw new Error(`the server exited during the run. Its output:\n${child.output()}`);
    const run: ServerRun<T> = { result, startupMs };
    await child.stop(ctx.settings.cpuProf ? 120_000 : 5000);
    if (ctx.settings.cpuProf) {
      try {
        const files = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
        const main = files.find((f) => f.split('.')[4] === '0');
        if (!main) throw new Error(`no main-thread profile in ${profileDir}`);
        run.profile = summarizeProfile(path.join(profileDir, main), { root: ctx.root, windowUs: window, top: 30 });
        // Worker threads (the tsx loader's, and any the server starts): keep those that ran project code.
        for (const file of files.filter((f) => f !== main)) {
          const summary = summarizeProfile(path.join(profileDir, file), { root: ctx.root, windowUs: window, top: 30 });
          const projectMs = summary.byArea.filter((a) => /^(packages|services)\//.test(a.area)).reduce((sum, a) => sum + a.ms, 0);
          if (projectMs > 0.01 * summary.sampledMs) (run.threadProfiles ??= []).push({ thread: `thread ${file.split('.')[4]}`, summary });
        }
      } catch (error) {
        run.profileError = error instanceof Error ? error.message : String(error);
      }
    }
    return run;
  } finally {
    await child.stop(2000);
    if (!ctx.settings.keepData) {
      await prepared?.cleanup(); // drops the schema, queues, topics and table (bounded in time)
      rmSync(dataDir, { recursive: true, force: true });
      ctx.tempDirs.delete(dataDir);
    } else if (prepared) {
      ctx.log(`  kept: ${dataDir} and the engines' ${JSON.stringify({ schema: prepared.postgresSchema, ...Object.fromEntries(Object.entries(prepared.env).filter(([k]) => /PREFIX|TABLE/.test(k))) })}`);
    }
  }
}

export async function withBareServer<T>(ctx: BenchContext, fn: (origin: string, pid: number) => Promise<T>): Promise<T> {
  const port = await freePort();
  const env = { ...process.env, PORT: String(port) };
  const child = spawnChild('bare', ['--import', 'tsx', '--import', './bench/lib/exit-with-parent.mjs', 'bench/bare-server.ts'], { cwd: ctx.root, env, echo: ctx.settings.echo, cpus: ctx.settings.pin?.server });
  const origin = `http://127.0.0.1:${port}`;
  try {
    await waitForHealth(origin, child, 90_000, ctx.signal);
    ctx.log(`  bare node:http server up on ${origin} (pid ${child.pid})`);
    return await fn(origin, child.pid);
  } finally {
    await child.stop(2000);
  }
}