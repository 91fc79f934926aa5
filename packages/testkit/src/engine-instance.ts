import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './service-processes.ts';

/**
 * A throwaway PostgreSQL, Redis or DynamoDB (moto) server of one test's own, on a port and in a
 * folder of its own, started and stopped through the same scripts CI uses
 * (`scripts/engines/postgres.sh`, `redis.sh`, `dynamodb.sh`, which take their port and folder from
 * `TRIGGERS_PG_PORT` / `TRIGGERS_REDIS_PORT` / `TRIGGERS_DYNAMODB_PORT` and `TRIGGERS_ENGINES_DIR`). A test may stop and restart it at will without disturbing the
 * shared engines other tests use. `destroy()` stops it and removes its folder; if the test
 * process exits without calling it, the server is stopped synchronously on exit.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SCRIPT_TIMEOUT_MS = 90_000;

export type EngineKind = 'postgres' | 'redis' | 'dynamodb';

export interface EngineInstance {
  readonly kind: EngineKind;
  readonly port: number;
  /** The connection URL (`postgres://...` with its test database, `redis://...`, or DynamoDB's `http://...` endpoint). */
  readonly url: string;
  /** Starts (or restarts) the server; resolves once it answers. */
  start(): Promise<void>;
  /** Stops the server (fast shutdown); resolves once it is gone. Idempotent. */
  stop(): Promise<void>;
  /** Stops it and removes its folder. Idempotent. */
  destroy(): Promise<void>;
}

/** Each script's port setting, and its subcommand that prints the address. */
const SCRIPT: Record<EngineKind, { portVariable: string; address: string; programs: string; missing: string }> = {
  postgres: { portVariable: 'TRIGGERS_PG_PORT', address: 'url', programs: 'ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1', missing: 'the PostgreSQL server programs are' },
  redis: { portVariable: 'TRIGGERS_REDIS_PORT', address: 'url', programs: 'command -v redis-server >/dev/null && command -v redis-cli >/dev/null', missing: 'redis-server and redis-cli are' },
  dynamodb: { portVariable: 'TRIGGERS_DYNAMODB_PORT', address: 'endpoint', programs: 'command -v python3 >/dev/null', missing: 'python3 (it runs moto) is' },
};

const running = new Set<() => void>();
let exitHookInstalled = false;

function runScript(kind: EngineKind, command: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [path.join(ROOT, 'scripts/engines', `${kind}.sh`), command], { env, timeout: SCRIPT_TIMEOUT_MS, cwd: ROOT }, (error, stdout, stderr) => {
      // (error.message holds the command line and what it wrote to stderr)
      if (error) reject(new Error(`scripts/engines/${kind}.sh ${command} failed${error.killed ? ` (killed after ${SCRIPT_TIMEOUT_MS} ms)` : ''}: ${stderr.trim() || error.message}`));
      else resolve(stdout.trim());
    });
  });
}

/**
 * Resolves when this machine can start a server of `kind` (the programs the script runs are
 * installed); rejects saying what is missing. For a test's engine check: an engine reachable at a
 * `TRIGGERS_TEST_*` address may run elsewhere, without its programs here.
 */
export async function checkEnginePrograms(kind: EngineKind): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    execFile('bash', ['-c', SCRIPT[kind].programs], { timeout: 5000 }, (error) => {
      if (error) reject(new Error(`${SCRIPT[kind].missing} not installed here (scripts/engines/${kind}.sh install)`));
      else resolve();
    });
  });
}

/** Starts a new server of `kind` on a free port, in a fresh folder. */
export async function startEngineInstance(kind: EngineKind): Promise<EngineInstance> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `triggers-${kind}-instance-`));
  const port = await freePort();
  const env = { ...process.env, [SCRIPT[kind].portVariable]: String(port), TRIGGERS_ENGINES_DIR: dir };
  const url = await runScript(kind, SCRIPT[kind].address, env);

  const stopSync = () => {
    try {
      execFileSync('bash', [path.join(ROOT, 'scripts/engines', `${kind}.sh`), 'stop'], { env, timeout: 20_000, stdio: 'ignore' });
    } catch {
      // best effort while exiting
    }
  };
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const stop of running) stop();
    });
  }

  let destroyed = false;
  const instance: EngineInstance = {
    kind,
    port,
    url,
    async start() {
      if (destroyed) throw new Error(`the ${kind} instance was destroyed`);
      running.add(stopSync);
      await runScript(kind, 'start', env);
    },
    async stop() {
      await runScript(kind, 'stop', env);
      running.delete(stopSync);
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      await instance.stop().catch(() => stopSync());
      running.delete(stopSync);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await instance.start();
  } catch (error) {
    await instance.destroy().catch(() => undefined);
    throw error;
  }
  return instance;
}
