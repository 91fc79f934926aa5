/**
 * `npx tsx bench/async-hooks-cost.ts`: what AsyncLocalStorage costs every promise of a process on
 * this Node once any `run` has happened (docs/benchmarks.md, tracing's cost): the same promise-heavy
 * loop before any AsyncLocalStorage, after one `run` (outside it), inside a `run`, and after
 * `disable()`. CPU time per iteration (six promises each), best of three passes.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const ITERATIONS = 200_000;

async function leaf(i: number): Promise<number> {
  await null;
  return i;
}

async function iteration(i: number): Promise<number> {
  const a = await leaf(i);
  const b = await Promise.resolve(a);
  return b + (await leaf(1));
}

async function cpuUsPerIteration(): Promise<number> {
  let best = Infinity;
  for (let pass = 0; pass < 3; pass++) {
    const start = process.cpuUsage();
    let sum = 0;
    for (let i = 0; i < ITERATIONS; i++) sum += await iteration(i);
    const used = process.cpuUsage(start);
    if (sum < 0) throw new Error('unreachable');
    best = Math.min(best, (used.user + used.system) / ITERATIONS);
  }
  return best;
}

const before = await cpuUsPerIteration();
const storage = new AsyncLocalStorage<object>();
storage.run({}, () => undefined);
const after = await cpuUsPerIteration();
const inside = await storage.run({}, () => cpuUsPerIteration());
// Node turns the hooks off again once no AsyncLocalStorage is enabled (bench/async-hooks-ingest-cost.ts relies on it).
storage.disable();
const disabled = await cpuUsPerIteration();
process.stdout.write(
  `Node ${process.version}, µs of CPU per iteration (6 promises): no AsyncLocalStorage yet ${before.toFixed(2)}; ` +
    `after one run() ${after.toFixed(2)}; inside run() ${inside.toFixed(2)}; after disable() ${disabled.toFixed(2)}\n`,
);
