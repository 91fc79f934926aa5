/** The machine, the disk and the commit a run measured, for the report. */
import { execFileSync } from 'node:child_process';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { round } from './load.ts';
import { summarize } from './stats.ts';
import type { BenchContext } from './context.ts';

/**
 * The disk's durable-write latency where the servers keep their data (os.tmpdir()): 200 appends of
 * 4 KiB, each followed by fdatasync — what SQLite does per commit with synchronous=FULL in WAL mode.
 */
export function measureFsync(): { dir: string; appends: number; p50Ms: number; p99Ms: number } | undefined {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'triggers-bench-fsync-'));
  try {
    const fd = openSync(path.join(dir, 'probe'), 'a');
    const block = Buffer.alloc(4096, 7);
    const samples: number[] = [];
    try {
      for (let i = 0; i < 200; i++) {
        const t0 = process.hrtime.bigint();
        writeSync(fd, block);
        fdatasyncSync(fd);
        samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    } finally {
      closeSync(fd);
    }
    const summary = summarize(samples);
    return { dir: os.tmpdir(), appends: samples.length, p50Ms: summary.p50, p99Ms: summary.p99 };
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The commit measured, and whether the server's code differs from it (uncommitted changes outside bench/ and docs/). */
export function sourceInfo(root: string): { commit?: string; changedFiles?: string[]; text: string } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const changedFiles = execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .map((l) => l.slice(3).trim())
      .filter((f) => f && !/^(bench|docs)\//.test(f));
    return { commit, changedFiles, text: `commit ${commit}${changedFiles.length ? ` + uncommitted changes in ${changedFiles.length} file(s) of the server` : ' (server code unmodified)'}` };
  } catch {
    return { text: 'not a git checkout' };
  }
}

export function machineInfo(ctx: BenchContext) {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    availableParallelism: os.availableParallelism(),
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverageAtStart: os.loadavg().map((n) => round(n, 2)),
    loadAverageAtEnd: [] as number[],
    fsync: ctx.settings.url ? undefined : measureFsync(),
  };
}