/**
 * A preload (`node --import ./bench/lib/heap-sampling.mjs …`) for allocation profiles: the first
 * SIGUSR2 starts V8's sampling heap profiler, counting objects the collectors have freed as well
 * (so it shows what is allocated, not what stays), one sample per 4 KiB on average; the second
 * writes the profile (a .heapprofile, readable by Chrome DevTools and bench/heap-sampling-diff.mjs)
 * to $HEAP_SAMPLING_OUT. Used by bench/ingest-allocation.sh.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const out = process.env.HEAP_SAMPLING_OUT;
if (!out) throw new Error('heap-sampling.mjs: set HEAP_SAMPLING_OUT');
const session = new Session();
session.connect();
const post = (method, params = {}) => new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));
await post('HeapProfiler.enable');
let sampling = false;
process.on('SIGUSR2', () => {
  const step = sampling
    ? post('HeapProfiler.stopSampling').then(({ profile }) => writeFileSync(out, JSON.stringify(profile)))
    : post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  sampling = !sampling;
  step.then(
    () => process.stderr.write(`heap-sampling: ${sampling ? 'started' : `written to ${out}`}\n`),
    (error) => process.stderr.write(`heap-sampling: ${error}\n`),
  );
});
