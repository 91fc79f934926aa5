import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EngineRequirement } from './engines.ts';
import { freePort } from './service-processes.ts';

/**
 * The Kubernetes API server of the operator and chart tests: a real kube-apiserver + etcd started
 * by `scripts/engines/kubernetes.sh` (no kubelet: nothing runs Pods, everything else is real).
 * Tests find it through `TRIGGERS_TEST_KUBECONFIG` (a kubeconfig whose user is in
 * `system:masters`); setting it also says the binaries are built here, so a test may start a
 * private server of its own (`startKubernetesInstance`) to restart it.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SCRIPT = path.join(ROOT, 'scripts/engines/kubernetes.sh');

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl against `kubeconfig` without blocking the event loop (an in-process controller keeps running). */
export function kubectl(kubeconfig: string, args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = execFile('kubectl', ['--kubeconfig', kubeconfig, ...args], { timeout: options.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = (error as (Error & { code?: number | string }) | null)?.code;
      if (code === 'ENOENT') return reject(new Error('kubectl is not installed'));
      // Drop kubectl 1.32's warning about the newer server: it is expected here and not the command's output.
      const shownStderr = stderr.split('\n').filter((line) => !line.startsWith('Warning: version difference')).join('\n');
      resolve({ code: error ? (typeof code === 'number' ? code : 1) : 0, stdout, stderr: shownStderr });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Like `kubectl`, but fails the test with kubectl's stderr when the command fails. */
export async function kubectlOk(kubeconfig: string, args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const result = await kubectl(kubeconfig, args, options);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${result.stderr.trim() || result.stdout.trim()}`);
  return result.stdout;
}

export const KUBERNETES: EngineRequirement = {
  name: 'Kubernetes API server',
  variable: 'TRIGGERS_TEST_KUBECONFIG',
  probe: async (kubeconfig) => {
    if (!fs.existsSync(kubeconfig)) throw new Error(`no kubeconfig at ${kubeconfig}`);
    const ready = await kubectl(kubeconfig, ['get', '--raw', '/readyz'], { timeoutMs: 8000 });
    if (ready.code !== 0 || ready.stdout.trim() !== 'ok') throw new Error(ready.stderr.trim() || `readyz answered ${JSON.stringify(ready.stdout.trim())}`);
  },
  hint: 'build and start one with scripts/engines/kubernetes.sh install && scripts/engines/kubernetes.sh start and set TRIGGERS_TEST_KUBECONFIG=$(scripts/engines/kubernetes.sh kubeconfig)',
  timeoutMs: 10_000,
};

export interface KubernetesInstance {
  readonly kubeconfig: string;
  /** Stops and starts kube-apiserver only (same etcd): every watch is dropped. */
  restartApiServer(): Promise<void>;
  /** Stops etcd and kube-apiserver and removes the folder. Idempotent. */
  destroy(): Promise<void>;
}

function runScript(command: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [SCRIPT, command], { env, timeout: 120_000, cwd: ROOT }, (error, stdout, stderr) => {
      if (error) reject(new Error(`scripts/engines/kubernetes.sh ${command} failed: ${stderr.trim() || error.message}`));
      else resolve(stdout.trim());
    });
  });
}

/** A private API server (its own ports and folder) that a test may restart without disturbing the shared one. */
export async function startKubernetesInstance(): Promise<KubernetesInstance> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'triggers-kube-instance-'));
  const env = { ...process.env, TRIGGERS_KUBE_PORT: String(await freePort()), TRIGGERS_ETCD_PORT: String(await freePortPair()), TRIGGERS_ENGINES_DIR: dir };
  let destroyed = false;
  const destroy = async () => {
    if (destroyed) return;
    destroyed = true;
    await runScript('stop', env).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await runScript('start', env);
  } catch (error) {
    await destroy();
    throw error;
  }
  return {
    kubeconfig: await runScript('kubeconfig', env),
    restartApiServer: () => runScript('restart-apiserver', env).then(() => undefined),
    destroy,
  };
}

/** etcd takes a client port and the next one for peers. */
async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port < 65_000 && (await isFree(port + 1))) return port;
  }
}

async function isFree(port: number): Promise<boolean> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
