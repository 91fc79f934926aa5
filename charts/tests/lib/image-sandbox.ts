import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '@triggers/testkit';
import { REPO_ROOT } from './repo.ts';
// The role table the Dockerfile's bundle step uses.
import { ROLES } from '../../../docker/bundle.mjs';

/**
 * Runs the image's roles the way the image does, without a container engine: the Dockerfile's own
 * build steps (the console's `vite build` when it is missing, then `node docker/bundle.mjs --out`),
 * laid out like the image's /app (dist/, docker/entrypoint.sh, package.json, and a node_modules that
 * holds only the production packages of the lockfile, as `npm ci --omit=dev` would: symlinks into the
 * checkout's node_modules, followed with --preserve-symlinks so that the packages' own imports resolve
 * in that set too), started through the same docker/entrypoint.sh with NODE_ENV=production.
 *
 * Read-only except the data folder: as root (no container here) each role runs as uid/gid 65534
 * through `setpriv`, with the app folder owned by root, so only the data folder and TMPDIR (its
 * /tmp emptyDir) are writable to it; otherwise the app folder is made read-only with chmod.
 */

const RUN_AS = 65534;
const isRoot = process.getuid?.() === 0;

export interface RoleProcess {
  readonly role: string;
  readonly url: string;
  readonly pid: number;
  readonly exited: boolean;
  readonly exitCode: number | null;
  output(): string;
  stop(): Promise<void>;
}

export interface ImageSandbox {
  /** The image's /app. */
  readonly appDir: string;
  /** A writable data folder (the image's /data volume). */
  readonly dataDir: string;
  /** The packages the bundles import (from docker/bundle.mjs). */
  readonly bundledPackages: string[];
  /** `docker/entrypoint.sh <role>` with the image's environment plus `env`; not waited for. */
  start(role: string, env?: Record<string, string>): Promise<RoleProcess>;
  /** A fresh writable data folder, for a role that must not share the default one. */
  newDataDir(): string;
  cleanup(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Top-level packages `npm ci --omit=dev` installs: every lockfile entry not marked dev (workspace links aside). */
export function productionTopLevelPackages(root = REPO_ROOT): string[] {
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; link?: boolean }> };
  return Object.entries(lock.packages)
    .filter(([key, entry]) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(key) && !entry.dev && !entry.link)
    .map(([key]) => key.slice('node_modules/'.length));
}

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production' }, maxBuffer: 32 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

function giveTo(target: string): void {
  if (isRoot) fs.chownSync(target, RUN_AS, RUN_AS);
}

/** Builds the bundles the way the Dockerfile does and lays out an image-like /app. */
export async function prepareImageSandbox(): Promise<ImageSandbox> {
  if (!fs.existsSync(path.join(REPO_ROOT, 'console/dist/index.html'))) run('npm', ['run', 'build', '-w', 'console'], REPO_ROOT);
  const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), 'triggers-image-'));
  fs.chmodSync(sandbox, 0o755);
  const appDir = path.join(sandbox, 'app');
  // Every role whose entry exists (the Dockerfile bundles all of them and fails on a missing one;
  // a role test whose entry is missing fails on that, not on the others' bundle).
  const roles = Object.entries(ROLES).filter(([, entry]) => fs.existsSync(path.join(REPO_ROOT, entry))).map(([role]) => role);
  const stdout = run(process.execPath, ['docker/bundle.mjs', '--out', path.join(appDir, 'dist'), '--roles', roles.join(',')], REPO_ROOT);
  const bundledPackages = (/^external packages: (.*) \(/m.exec(stdout)?.[1] ?? '').split(', ').filter(Boolean);
  fs.mkdirSync(path.join(appDir, 'docker'));
  fs.copyFileSync(path.join(REPO_ROOT, 'docker/entrypoint.sh'), path.join(appDir, 'docker/entrypoint.sh'));
  fs.chmodSync(path.join(appDir, 'docker/entrypoint.sh'), 0o755);
  fs.copyFileSync(path.join(REPO_ROOT, 'package.json'), path.join(appDir, 'package.json'));
  for (const name of productionTopLevelPackages()) {
    const link = path.join(appDir, 'node_modules', name);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.join(REPO_ROOT, 'node_modules', name), link);
  }
  const tmpDir = path.join(sandbox, 'tmp');
  fs.mkdirSync(tmpDir, { mode: 0o1777 });
  fs.chmodSync(tmpDir, 0o1777);
  if (!isRoot) spawnSync('chmod', ['-R', 'a-w', appDir]);
  let dataDirs = 0;
  const newDataDir = () => {
    const dir = path.join(sandbox, `data-${dataDirs++}`);
    fs.mkdirSync(dir);
    giveTo(dir);
    return dir;
  };
  const dataDir = newDataDir();
  const started: RoleProcess[] = [];

  return {
    appDir,
    dataDir,
    bundledPackages,
    newDataDir,
    async start(role, env = {}) {
      const port = await freePort();
      const entrypoint = path.join(appDir, 'docker/entrypoint.sh');
      const [command, args] = isRoot
        ? ['setpriv', [`--reuid=${RUN_AS}`, `--regid=${RUN_AS}`, '--clear-groups', '--', entrypoint, role]]
        : [entrypoint, [role]];
      // The image's environment (Dockerfile ENV) and nothing of this test process's TRIGGERS_* settings.
      const child = spawn(command, args, {
        cwd: appDir,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: '/nonexistent',
          TMPDIR: tmpDir,
          NODE_ENV: 'production',
          // node_modules holds symlinks into the checkout's: without this, a package's own imports
          // would resolve from the checkout's full (dev included) tree instead of the production set.
          NODE_OPTIONS: '--preserve-symlinks',
          PORT: String(port),
          TRIGGERS_HOST: '127.0.0.1',
          TRIGGERS_DATA_DIR: dataDir,
          TRIGGERS_LOG_LEVEL: 'warn',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      live.add(child);
      let output = '';
      const keep = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-64 * 1024));
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
      let exited = false;
      let exitCode: number | null = null;
      const exit = new Promise<void>((resolve) =>
        child.once('exit', (code) => {
          exited = true;
          exitCode = code;
          live.delete(child);
          resolve();
        }),
      );
      const processInfo: RoleProcess = {
        role,
        url: `http://127.0.0.1:${port}`,
        pid: child.pid ?? -1,
        get exited() {
          return exited;
        },
        get exitCode() {
          return exitCode;
        },
        output: () => output,
        async stop() {
          if (exited) return;
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exit;
          clearTimeout(timer);
        },
      };
      started.push(processInfo);
      return processInfo;
    },
    async cleanup() {
      await Promise.all(started.map((p) => p.stop()));
      if (!isRoot) spawnSync('chmod', ['-R', 'u+w', appDir]);
      fs.rmSync(sandbox, { recursive: true, force: true });
    },
  };
}

/** Polls `GET url+path` until it answers `status`; fails with the process's output otherwise. */
export async function waitForStatus(role: RoleProcess, urlPath: string, status: number, timeoutMs = 30_000): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    if (role.exited) throw new Error(`${role.role} exited (code ${role.exitCode}) before ${urlPath} answered ${status}:\n${role.output()}`);
    try {
      const response = await fetch(role.url + urlPath, { signal: AbortSignal.timeout(2000) });
      const text = await response.text();
      if (response.status === status) return text.startsWith('{') ? JSON.parse(text) : text;
      last = `${response.status} ${text.slice(0, 300)}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) throw new Error(`${role.role}: ${urlPath} did not answer ${status} within ${timeoutMs} ms (last: ${last}):\n${role.output()}`);
    await sleep(100);
  }
}
