/**
 * `taskset -c 0 node bench/cpu-speed-probe.mjs [RUNS] [PAUSE_MS]`: a fixed pure-JS loop (3·10^7
 * integer steps, no allocation), its CPU milliseconds per run, printed on one line. Run on the
 * benchmark's server core before and after a measurement, it tells whether the core itself ran
 * slower (host contention, frequency) when a server's CPU per event moved. The first runs are
 * unoptimised (V8 warm-up): read the later ones. Used in docs/benchmarks.md ("Seventh pass").
 */
function work() {
  let h = 0;
  for (let i = 0; i < 3e7; i++) h = (h * 31 + i) | 0;
  return h;
}
const runs = Number(process.argv[2] ?? 20);
const pauseMs = Number(process.argv[3] ?? 3000);
const out = [];
let sink = 0;
for (let k = 0; k < runs; k++) {
  const start = process.cpuUsage();
  sink ^= work();
  const used = process.cpuUsage(start);
  out.push(((used.user + used.system) / 1000).toFixed(1));
  if (k + 1 < runs) await new Promise((resolve) => setTimeout(resolve, pauseMs));
}
// `sink` (an integer, never 0.5) keeps every loop's result in use, so V8 cannot drop the loop.
console.log(`${out.join(' ')}${sink === 0.5 ? ' ' : ''}`);
