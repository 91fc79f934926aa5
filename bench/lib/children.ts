/**
 * Child processes of the benchmark (the server under test, the bare node:http baseline).
 * Every child is tracked so the orchestrator can always kill them: on normal completion, on an
 * error, on SIGINT/SIGTERM, and (synchronously, SIGKILL) when the process exits for any reason.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
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
  options: { cwd: string; env: NodeJS.ProcessEnv; echo?: boolean; cpus?: string },
): Child {
  // taskset execs node in place, so the pid (CPU accounting, signals) is node's own.
  const [file, argv] = options.cpus !== undefined ? ['/usr/bin/taskset', ['-c', options.cpus, process.execPath, ...args]] : [process.execPath, args];
  const proc = spawn(file, argv, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
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

/** Pids of the processes listening on TCP `port` (any local address), from /proc/net/tcp{,6} and /proc/<pid>/fd. */
export function listeningPids(port: number): number[] {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[3] === '0A' && f[1].endsWith(`:${hexPort}`)) inodes.add(f[9]);
    }
  }
  if (inodes.size === 0) return [];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const link = readlinkSync(`/proc/${entry}/fd/${fd}`);
        if (link.startsWith('socket:[') && inodes.has(link.slice(8, -1))) {
          pids.push(Number(entry));
          break;
        }
      } catch {
        // closed meanwhile
      }
    }
  }
  return pids;
}

/**
 * CPU seconds used so far by `roots` and every live descendant, including the children they have
 * reaped (cutime/cstime): e.g. a PostgreSQL postmaster and its backends. Linux only.
 */
export function treeCpuSeconds(roots: number[]): number | undefined {
  if (roots.length === 0) return undefined;
  const parent = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(entry), Number(f[1]));
      cpu.set(Number(entry), (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100);
    } catch {
      // exited meanwhile
    }
  }
  const inTree = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; p = parent.get(p) ?? 0, hops++) if (roots.includes(p)) return true;
    return false;
  };
  let total = 0;
  for (const [pid, seconds] of cpu) if (inTree(pid)) total += seconds;
  return total;
}
