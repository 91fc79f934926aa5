/**
 * `npx tsx bench/chaos/restart-time.ts [--backends postgres-redis-kafka] [--rounds 3]`: how long a
 * service takes from SIGKILL to answering `/health` again, run through tsx (TypeScript compiled at
 * start-up), from bundles as the image builds them (every backend's packages loaded at start-up),
 * and from the split bundles the chaos drill uses (service-bundles.ts). It starts the
 * four services on the running engines (each run in a space of its own, nothing restarted but the
 * services), kills and restarts each one `rounds` times in turn, and prints min / median / max per
 * service and mode of the time and of the CPU the new process used until it answered /health (the
 * CPU figure depends far less on how loaded the machine is). Figures on a loaded machine are loaded figures: say so where you quote them.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { prepareBackends, startServiceProcesses, type ServiceName } from '@triggers/testkit';
import { BACKEND_PRESETS, resolveEngines } from '../lib/backends.ts';
import { buildServiceBundles } from './service-bundles.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SERVICES: readonly ServiceName[] = ['ingest', 'inbox', 'matcher', 'deliverer'];

function spread(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const f = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  return `${f(sorted[0])} / ${f(sorted[Math.floor((sorted.length - 1) / 2)])} / ${f(sorted.at(-1)!)}`;
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the command.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

async function measure(mode: string, env: Record<string, string>, rounds: number, bundleDir?: string): Promise<void> {
  const services = await startServiceProcesses({ env: { ...env, TRIGGERS_DEMO: '0' }, startTimeoutMs: 180_000, bundleDir });
  try {
    const times = new Map<ServiceName, number[]>(SERVICES.map((s) => [s, []]));
    const cpu = new Map<ServiceName, number[]>(SERVICES.map((s) => [s, []]));
    for (let round = 0; round < rounds; round++) {
      for (const name of SERVICES) {
        const started = Date.now();
        const restarted = await services.restart(name, { signal: 'SIGKILL' });
        times.get(name)!.push(Date.now() - started);
        cpu.get(name)!.push(cpuMs(restarted.pid));
      }
    }
    for (const [name, values] of times) {
      process.stdout.write(`${mode.padEnd(14)} ${name.padEnd(9)} SIGKILL → /health (min / median / max of ${values.length}): ${spread(values)}; CPU used by then: ${spread(cpu.get(name)!)}\n`);
    }
  } finally {
    await services.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { backends: { type: 'string', default: 'postgres-redis-kafka' }, rounds: { type: 'string', default: '3' } } });
  const preset = BACKEND_PRESETS[values.backends];
  if (!preset || preset.name === 'sqlite') throw new Error(`--backends: unknown or not distributed: ${values.backends}`);
  const rounds = Math.max(1, Math.round(Number(values.rounds)));
  const { addresses } = await resolveEngines(preset, ROOT);
  const whole = await buildServiceBundles(ROOT, { splitting: false });
  const split = await buildServiceBundles(ROOT, { splitting: true });
  process.stdout.write(`bundles built in ${whole.buildMs} ms (whole) and ${split.buildMs} ms (split); load average at start ${loadavg()[0].toFixed(1)}\n`);
  const backends = await prepareBackends(preset.choice, addresses, `restart-time-${preset.name}`);
  try {
    await measure('tsx', backends.env, rounds);
    await measure('bundle (image)', backends.env, rounds, whole.dir);
    await measure('bundle (split)', backends.env, rounds, split.dir);
    process.stdout.write(`load average at the end ${loadavg()[0].toFixed(1)}\n`);
  } finally {
    await backends.cleanup();
    whole.remove();
    split.remove();
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`restart-time: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  },
);
