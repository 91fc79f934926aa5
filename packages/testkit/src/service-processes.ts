import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { deleteDynamoDbTable, deleteSqsQueues } from '@triggers/core/testing';

/**
 * The four services as four separate OS processes (`node --import tsx services/<name>/src/main.ts`),
 * configured by environment variables only, as a distributed deployment runs them: for the
 * multi-process end-to-end tests.
 *
 * - Each process listens on a port of its own on 127.0.0.1 and is started once its `/health`
 *   answers; its stdout and stderr (pino's JSON lines at `warn`) are kept for diagnostics.
 * - Every process is always stopped: by `stop()` (SIGTERM, then SIGKILL after a grace period, so
 *   bounded in time), synchronously with SIGKILL if the test process exits without calling it, and
 *   by the child itself (it polls its parent) if the test process is killed outright.
 * - `prepareBackends` gives each run its own PostgreSQL schema, SQS queue prefix, Kafka topic
 *   prefix, DynamoDB table and data folder, so runs (and test files) never see each other's data.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export type ServiceName = 'ingest' | 'inbox' | 'matcher' | 'deliverer' | 'all-in-one';
export const SERVICE_NAMES: readonly ServiceName[] = ['ingest', 'inbox', 'matcher', 'deliverer'];

/**
 * Preloaded into every child: if the test process disappears without stopping it (SIGKILL, OOM),
 * the child notices it was re-parented and kills itself. The services' code is run untouched.
 */
const EXIT_WITH_PARENT =
  'data:text/javascript,const p=process.ppid;setInterval(()=>{if(process.ppid!==p)process.kill(process.pid,"SIGKILL")},250).unref();';

/** Children still running, SIGKILLed synchronously if this process exits with them alive. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

const OUTPUT_LIMIT = 256 * 1024;

export interface ServiceProcess {
  /** `ingest`, `ingest-2`, `matcher`, ... */
  readonly name: string;
  readonly service: ServiceName;
  readonly pid: number;
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** What the process wrote so far (stdout and stderr interleaved; the last 256 KiB). */
  output(): string;
  /** Whether it has exited. */
  readonly exited: boolean;
  /** SIGTERM, then SIGKILL after `graceMs` (default 5 s); resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** Sends `signal` at once (a crash: `SIGKILL`); resolves once the process is gone. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

export interface StartServicesOptions {
  /**
   * Settings for every process: the backend choice and connection settings (see `prepareBackends`)
   * and any tuning (`TRIGGERS_RETRY_BASE_MS`, ...). `PORT`, `TRIGGERS_HOST`, `TRIGGERS_ADMIN_TOKEN`
   * and `TRIGGERS_LOG_LEVEL` are set here unless given. No other `TRIGGERS_*` variable of the test
   * process reaches the children.
   */
  env: Record<string, string>;
  /** Settings for one service only, applied over `env` (e.g. ingest's queue behind a proxy). */
  envFor?: Partial<Record<ServiceName, Record<string, string>>>;
  /** How many ingest processes (default 1): they share the backends, e.g. one rate-limit bucket. */
  ingestReplicas?: number;
  /** How many deliverer processes (default 1): they consume one `deliveries` queue, e.g. to test FIFO across processes. */
  delivererReplicas?: number;
  /** How long every process together may take to answer `/health`. Default 60 s. */
  startTimeoutMs?: number;
  /** Echo the children's output to this process's stderr, prefixed with their name (debugging). */
  echo?: boolean;
  /**
   * Run each service from the bundles docker/bundle.mjs built into this folder (which must sit
   * inside the repository, so the bundles find node_modules) instead of through tsx: a restart then
   * costs no TypeScript compilation (the chaos drill, bench/chaos).
   */
  bundleDir?: string;
}

export interface ServiceProcesses {
  /** The first ingest process. */
  readonly ingest: ServiceProcess;
  /** Every ingest process (`ingestReplicas` of them). */
  readonly ingests: readonly ServiceProcess[];
  readonly inbox: ServiceProcess;
  readonly matcher: ServiceProcess;
  readonly deliverer: ServiceProcess;
  /** Every deliverer process (`delivererReplicas` of them: `deliverer`, `deliverer-2`, ...). */
  readonly deliverers: readonly ServiceProcess[];
  readonly all: readonly ServiceProcess[];
  /** The shared `TRIGGERS_ADMIN_TOKEN`. */
  readonly adminToken: string;
  /** The tail of every process's output, labelled: for a failing test's message. */
  diagnostics(maxCharsPerProcess?: number): string;
  /**
   * Kills the process called `name` (`ingest`, `ingest-2`, `matcher`, ...) with `signal` (default
   * `SIGKILL`: a crash), starts the same service again on the same port with the same settings,
   * and resolves with the new process once it answers `/health` (the getters above then return
   * it). Rejects, with its output, when it cannot be started within `startTimeoutMs`.
   */
  restart(name: string, options?: { signal?: NodeJS.Signals }): Promise<ServiceProcess>;
  /** Stops every process (bounded: SIGKILL after the grace period). Idempotent. */
  stop(): Promise<void>;
}

/** A port nothing listens on right now (bound, then released). */
export async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** The environment of a child: the test process's own minus every `TRIGGERS_*` setting and `PORT`. */
function baseEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('TRIGGERS_') && name !== 'PORT') env[name] = value;
  }
  // The AWS SDK's notice that its next major needs Node 22: noise in every child's output.
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return env;
}

/**
 * The node arguments that run `service`: its TypeScript through tsx, or, given `bundleDir`, the
 * esbuild bundle docker/bundle.mjs wrote there (`<bundleDir>/services/<service>/src/main.mjs`, as
 * the image runs it: no compilation at start-up).
 */
function serviceCommand(service: ServiceName, bundleDir?: string): string[] {
  return bundleDir
    ? ['--enable-source-maps', '--import', EXIT_WITH_PARENT, path.join(bundleDir, 'services', service, 'src', 'main.mjs')]
    : ['--import', EXIT_WITH_PARENT, '--import', 'tsx', `services/${service}/src/main.ts`];
}

function spawnService(name: string, service: ServiceName, port: number, env: Record<string, string>, echo: boolean, bundleDir?: string): ServiceProcess {
  installExitHook();
  const child = spawn(process.execPath, serviceCommand(service, bundleDir), {
    cwd: ROOT,
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let buffer = '';
  const keep = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    buffer = (buffer + text).slice(-OUTPUT_LIMIT);
    if (echo) process.stderr.write(text.replace(/^(?=.)/gm, `[${name}] `));
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      live.delete(child);
      buffer += `\n[${name} exited: ${signal ?? `code ${code}`}]\n`;
      resolve();
    });
    child.once('error', (error) => {
      exited = true;
      live.delete(child);
      buffer += `\n[${name} could not be started: ${error.message}]\n`;
      resolve();
    });
  });
  return {
    name,
    service,
    pid: child.pid ?? -1,
    port,
    url: `http://127.0.0.1:${port}`,
    output: () => buffer,
    get exited() {
      return exited;
    },
    async stop(graceMs = 5000) {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, graceMs);
      await exit;
      clearTimeout(timer);
    },
    async kill(signal) {
      if (!exited) child.kill(signal);
      await exit;
    },
  };
}

/** Resolves once `GET /health` answers 200; rejects when the process exits or the deadline passes. */
async function waitForHealth(service: ServiceProcess, deadline: number): Promise<void> {
  for (;;) {
    if (service.exited) throw new Error(`${service.name} exited before answering /health`);
    try {
      const response = await fetch(`${service.url}/health`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() >= deadline) throw new Error(`${service.name} did not answer /health on ${service.url} in time`);
    await sleep(100);
  }
}

function tail(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `…${text.slice(-maxChars)}`;
}

/**
 * The all-in-one (`services/all-in-one/src/main.ts`) as one child process with `env` (plus the
 * same defaults and clean-up as the services above), on `port` (a free one by default), resolved
 * once `/health` answers: for crash tests that SIGKILL it and start it again on the same data
 * folder and port.
 */
export async function startAllInOneProcess(env: Record<string, string>, options: { port?: number; startTimeoutMs?: number; echo?: boolean } = {}): Promise<ServiceProcess> {
  const child = spawnService('all-in-one', 'all-in-one', options.port ?? (await freePort()), { ...baseEnvironment(), TRIGGERS_HOST: '127.0.0.1', TRIGGERS_LOG_LEVEL: 'warn', ...env }, options.echo ?? false);
  try {
    await waitForHealth(child, Date.now() + (options.startTimeoutMs ?? 60_000));
  } catch (error) {
    await child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n${tail(child.output().trim(), 4000)}`);
  }
  return child;
}

/**
 * Starts ingest (×`ingestReplicas`), inbox, matcher and deliverer as separate processes and waits
 * until each answers `/health`. If any of them fails to start, every one is stopped and the error
 * carries their output.
 */
export async function startServiceProcesses(options: StartServicesOptions): Promise<ServiceProcesses> {
  const replicas = Math.max(1, Math.floor(options.ingestReplicas ?? 1));
  const delivererReplicas = Math.max(1, Math.floor(options.delivererReplicas ?? 1));
  const adminToken = options.env.TRIGGERS_ADMIN_TOKEN ?? `e2e-admin-${randomBytes(12).toString('hex')}`;
  const shared: Record<string, string> = {
    ...baseEnvironment(),
    TRIGGERS_HOST: '127.0.0.1',
    TRIGGERS_LOG_LEVEL: 'warn',
    ...options.env,
    TRIGGERS_ADMIN_TOKEN: adminToken,
  };
  const plan: { name: string; service: ServiceName }[] = [
    ...Array.from({ length: replicas }, (_, i) => ({ name: i === 0 ? 'ingest' : `ingest-${i + 1}`, service: 'ingest' as const })),
    { name: 'inbox', service: 'inbox' },
    { name: 'matcher', service: 'matcher' },
    ...Array.from({ length: delivererReplicas }, (_, i) => ({ name: i === 0 ? 'deliverer' : `deliverer-${i + 1}`, service: 'deliverer' as const })),
  ];
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  const started: ServiceProcess[] = [];
  const diagnostics = (maxChars = 4000) =>
    started.map((p) => `--- ${p.name} (pid ${p.pid}, ${p.url}) ---\n${tail(p.output().trim(), maxChars) || '(no output)'}`).join('\n');
  const stopAll = async () => {
    await Promise.all(started.map((p) => p.stop()));
  };

  // Every start is awaited (settled) before giving up, so no child is spawned after the clean-up.
  const results = await Promise.allSettled(
    plan.map(async ({ name, service }) => {
      const env = { ...shared, ...(options.envFor?.[service] ?? {}) };
      // A port probed free may be taken before the child binds it: then try another.
      for (let attempt = 1; ; attempt++) {
        const child = spawnService(name, service, await freePort(), env, options.echo ?? false, options.bundleDir);
        started.push(child);
        try {
          await waitForHealth(child, deadline);
          return;
        } catch (error) {
          const portTaken = child.exited && /EADDRINUSE/.test(child.output());
          if (!portTaken || attempt >= 3) throw error;
          started.splice(started.indexOf(child), 1);
        }
      }
    }),
  );
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason instanceof Error ? r.reason.message : String(r.reason)] : []));
  if (failures.length > 0) {
    const report = diagnostics();
    await stopAll();
    throw new Error(`Could not start the services: ${failures.join('; ')}\n${report}`);
  }

  // Restarts replace a process in `started` (same name, same port), so the getters read it live.
  const byName = (name: string) => started.find((p) => p.name === name)!;
  const names = plan.map((p) => p.name);
  let stopping: Promise<void> | undefined;
  const restarting = new Map<string, Promise<ServiceProcess>>();
  const restart = async (name: string, signal: NodeJS.Signals): Promise<ServiceProcess> => {
    const step = plan.find((p) => p.name === name);
    if (!step) throw new Error(`restart: no process called ${name} (${names.join(', ')})`);
    const old = byName(name);
    await old.kill(signal);
    if (stopping) throw new Error(`restart: the services are stopping`);
    const env = { ...shared, ...(options.envFor?.[step.service] ?? {}) };
    const child = spawnService(name, step.service, old.port, env, options.echo ?? false, options.bundleDir);
    started.splice(started.indexOf(old), 1, child);
    await waitForHealth(child, Date.now() + (options.startTimeoutMs ?? 60_000)).catch((error: Error) => {
      throw new Error(`restart: ${error.message}\n${tail(child.output().trim(), 4000)}`);
    });
    return child;
  };
  return {
    get ingest() {
      return byName(names[0]);
    },
    get ingests() {
      return plan.filter((p) => p.service === 'ingest').map((p) => byName(p.name));
    },
    get inbox() {
      return byName('inbox');
    },
    get matcher() {
      return byName('matcher');
    },
    get deliverer() {
      return byName('deliverer');
    },
    get deliverers() {
      return plan.filter((p) => p.service === 'deliverer').map((p) => byName(p.name));
    },
    get all() {
      return names.map(byName);
    },
    adminToken,
    diagnostics,
    restart(name, restartOptions) {
      // One restart per process at a time: a second call waits for the first, then restarts again.
      const previous = restarting.get(name) ?? Promise.resolve(undefined);
      const next = previous.catch(() => undefined).then(() => restart(name, restartOptions?.signal ?? 'SIGKILL'));
      restarting.set(name, next);
      return next;
    },
    stop: () => (stopping ??= stopAll()),
  };
}

// --- Backends for one run --------------------------------------------------------------------------

export interface BackendChoice {
  eventStore: 'sqlite' | 'postgres' | 'dynamodb';
  metadataStore: 'sqlite' | 'postgres';
  queue: 'sqlite' | 'sqs' | 'kafka';
  cache: 'memory' | 'redis';
}

/** Where the engines are (the `TRIGGERS_TEST_*` addresses); only the chosen ones are needed. */
export interface EngineAddresses {
  postgresUrl?: string;
  redisUrl?: string;
  dynamodbEndpoint?: string;
  sqsEndpoint?: string;
  kafkaBrokers?: string;
}

export interface PreparedBackends {
  /** The `TRIGGERS_*` settings that select the backends, each pointed at this run's own space. */
  env: Record<string, string>;
  /** This run's data folder (the SQLite file, when a SQLite backend is chosen). */
  dataDir: string;
  /** The PostgreSQL schema (also in `env.TRIGGERS_POSTGRES_URL` as `options=-c search_path=...`). */
  postgresSchema?: string;
  /** Removes what the run created (schema, queues, topics, table, data folder). Stop the services first. */
  cleanup(): Promise<void>;
}

/** `postgres://...` with the connection option that makes `schema` the only schema on its search path. */
export function postgresUrlWithSchema(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('options', `-c search_path=${schema}`);
  return parsed.toString();
}

/**
 * The settings for one run on real engines, isolated from every other run: a fresh PostgreSQL
 * schema (created here; the services find it through the URL's `search_path` option and migrate
 * it), unique SQS queue and Kafka topic prefixes (the services create their queues and topics),
 * a unique DynamoDB table name (created by the services), and a fresh data folder.
 */
export async function prepareBackends(choice: BackendChoice, engines: EngineAddresses, label = 'e2e'): Promise<PreparedBackends> {
  const id = `${label.replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, 20)}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `triggers-${label}-`));
  const env: Record<string, string> = {
    TRIGGERS_DATA_DIR: dataDir,
    TRIGGERS_EVENT_STORE: choice.eventStore,
    TRIGGERS_METADATA_STORE: choice.metadataStore,
    TRIGGERS_QUEUE: choice.queue,
    TRIGGERS_CACHE: choice.cache,
  };
  const cleanups: (() => Promise<void>)[] = [async () => fs.rmSync(dataDir, { recursive: true, force: true })];
  const need = (value: string | undefined, what: string): string => {
    if (!value) throw new Error(`prepareBackends: ${what} is needed for ${JSON.stringify(choice)}`);
    return value;
  };
  let postgresSchema: string | undefined;

  if (choice.eventStore === 'postgres' || choice.metadataStore === 'postgres') {
    const url = need(engines.postgresUrl, 'a PostgreSQL URL');
    postgresSchema = `e2e_${id}`;
    await withPostgresClient(url, (client) => client.query(`CREATE SCHEMA "${postgresSchema}"`));
    const schema = postgresSchema;
    cleanups.push(() => withPostgresClient(url, (client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)).then(() => undefined));
    env.TRIGGERS_POSTGRES_URL = postgresUrlWithSchema(url, postgresSchema);
  }
  if (choice.metadataStore !== 'sqlite') {
    // Webhook secrets are encrypted at rest with a key every process shares (docs/operations.md).
    env.TRIGGERS_SECRET_KEY = randomBytes(32).toString('base64');
  }
  if (choice.cache === 'redis') {
    // Rate-limit and idempotency keys are per customer, and every run makes its own customers.
    env.TRIGGERS_REDIS_URL = need(engines.redisUrl, 'a Redis URL');
  }
  if (choice.eventStore === 'dynamodb') {
    const endpoint = need(engines.dynamodbEndpoint, 'a DynamoDB endpoint');
    const table = `triggers-${id.replaceAll('_', '-')}`;
    env.TRIGGERS_DYNAMODB_ENDPOINT = endpoint;
    env.TRIGGERS_DYNAMODB_TABLE = table;
    env.TRIGGERS_DYNAMODB_SHARDS = '4';
    cleanups.push(async () => {
      await deleteDynamoDbTable(endpoint, table);
    });
  }
  if (choice.queue === 'sqs') {
    const endpoint = need(engines.sqsEndpoint, 'an SQS endpoint');
    const prefix = `e2e-${id.replaceAll('_', '-')}`.slice(0, 40);
    env.TRIGGERS_SQS_ENDPOINT = endpoint;
    env.TRIGGERS_SQS_QUEUE_PREFIX = prefix;
    cleanups.push(async () => {
      await deleteSqsQueues(endpoint, prefix);
    });
  }
  if (choice.queue === 'kafka') {
    const brokers = need(engines.kafkaBrokers, 'Kafka brokers');
    const prefix = `e2e-${id.replaceAll('_', '-')}`;
    env.TRIGGERS_KAFKA_BROKERS = brokers;
    env.TRIGGERS_KAFKA_TOPIC_PREFIX = prefix;
    cleanups.push(() => deleteKafkaPrefix(brokers, prefix));
  }

  let cleaned: Promise<void> | undefined;
  return {
    env,
    dataDir,
    postgresSchema,
    cleanup: () =>
      (cleaned ??= (async () => {
        // Every step runs even if one fails; each is bounded so a dead engine cannot hang `after`.
        for (const step of cleanups.reverse()) await withinMs(step(), 30_000).catch(() => undefined);
      })()),
  };
}

async function withPostgresClient<T>(url: string, work: (client: import('pg').Client) => Promise<T>): Promise<T> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function deleteKafkaPrefix(brokers: string, prefix: string): Promise<void> {
  const { default: kafkajs } = await import('kafkajs');
  const kafka = new kafkajs.Kafka({
    brokers: brokers.split(',').map((b) => b.trim()).filter(Boolean),
    logLevel: kafkajs.logLevel.NOTHING,
    connectionTimeout: 3000,
    retry: { retries: 1 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}-`));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 20_000 });
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(`${prefix}-`));
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function withinMs<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
