/**
 * Preload for a started server: counts garbage collections by kind (a PerformanceObserver of 'gc'
 * entries) and writes the running totals to stderr every second as
 * 'GCSTATS pid <pid> {"minor":{"n":…,"ms":…},…}'. Use:
 *   npm run bench -- --scenarios ingest-traced --echo --server-env NODE_OPTIONS=--import=./bench/lib/gc-stats.mjs
 * (docs/benchmarks.md, tracing's sixth pass: garbage collection, counted).
 */
import { PerformanceObserver, constants } from 'node:perf_hooks';
const kinds = { [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor', [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major', [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb' };
const acc = {};
new PerformanceObserver((list) => { for (const e of list.getEntries()) { const k = kinds[e.detail?.kind ?? e.kind] ?? 'other'; (acc[k] ??= { n: 0, ms: 0 }); acc[k].n++; acc[k].ms += e.duration; } }).observe({ entryTypes: ['gc'] });
const report = () => process.stderr.write(`GCSTATS pid ${process.pid} ${JSON.stringify(acc)}\n`);
setInterval(report, 1000).unref();
