/**
 * Preload for a started server: counts garbage collections by kind (a PerformanceObserver of 'gc'
 * entries) and writes the running totals to stderr every second as
 * 'GCSTATS pid <pid> {"minor":{"n":…,"ms":…},…}'. Use:
 *   npm run bench -- --scenarios ingest-traced --echo --server-env NODE_OPTIONS=--import=./bench/lib/gc-stats.mjs
 * (docs/benchmarks.md, tracing's sixth pass: garbage collection, counted).
 */
import { PerformanceObserver, constants } from 'node:perf_hooks';

const KINDS = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};
const totals = {};

new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = KINDS[entry.detail?.kind] ?? 'other';
    totals[kind] ??= { n: 0, ms: 0 };
    totals[kind].n++;
    totals[kind].ms += entry.duration;
  }
}).observe({ entryTypes: ['gc'] });

setInterval(() => process.stderr.write(`GCSTATS pid ${process.pid} ${JSON.stringify(totals)}\n`), 1000).unref();
