/**
 * Child processes of the benchmark (the server under test, the bare node:http baseline).
 * Every child is tracked so the orchestrator can always kill them: on normal completion, on an
 * error, on SIGINT/SIGTERM, and (synchronously, SIGKILL) when the process exits for any reason.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';

const live = new Set<ChildProcess>();

export interface Child {
  name: string;
  pid: number;
  /** The last ~64 KiB of the child's stdout and stderr, for error messages. */
  output(): string;
  /** True once the process has exited. */
  readonly exited: boolean;
  /** Resolves when the process exits. */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after `graceMs`. Resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export function spawnChild(
  name: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; echo?: boolean },
): Child {
  const proc = spawn(process.execPath, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  let buffer = '';
  const keep = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    buffer = (buffer + text).slice(-65536);
    if (options.echo) process.stderr.write(text.replace(/^(?=.)/gm, `[${name}] `));
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  let exited = false;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => {
      exited = true;
      live.delete(proc);
      resolve({ code, signal });
    });
    proc.once('error', (error) => {
      buffer += `\nspawn error: ${error.message}`;
      exited = true;
      live.delete(proc);
      resolve({ code: -1, signal: null });
    });
  });
  return {
    name,
    pid: proc.pid ?? -1,
    output: () => buffer,
    get exited() {
      return exited;
    },
    exit,
    async stop(graceMs = 5000) {
      if (exited) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!exited) proc.kill('SIGKILL');
      }, graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** Synchronous last resort: SIGKILL every child still running. */
export function killAllChildrenSync(): void {
  for (const proc of live) {
    try {
      proc.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

export function liveChildren(): number {
  return live.size;
}

/** A free TCP port on 127.0.0.1 (asks the kernel, then releases it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `GET {url}/health` until it answers 200; fails early when the child exits. */
export async function waitForHealth(url: string, child: Child | undefined, timeoutMs = 90_000, signal?: AbortSignal): Promise<number> {
  const started = Date.now();
  let lastError = '';
  while (Date.now() - started < timeoutMs) {
    if (signal?.aborted) throw new Error('interrupted');
    if (child?.exited) {
      throw new Error(`${child.name} exited before it was healthy. Its output:\n${child.output().trim() || '(none)'}`);
    }
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.status === 200) return Date.now() - started;
      lastError = `status ${response.status}`;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `${url}/health did not answer 200 within ${timeoutMs} ms (last: ${lastError}).` +
      (child ? ` Output of ${child.name}:\n${child.output().trim() || '(none)'}` : ''),
  );
}

/** CPU time (user + system, seconds) a process has used so far, from /proc (Linux only). */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return (utime + stime) / 100; // CLK_TCK is 100 on Linux
  } catch {
    return undefined;
  }
}

/** Busy CPU time of the whole machine so far (seconds, all cores), from /proc/stat (Linux only). */
export function machineBusySeconds(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    return (user + nice + system + irq + softirq + steal) / 100;
  } catch {
    return undefined;
  }
}
