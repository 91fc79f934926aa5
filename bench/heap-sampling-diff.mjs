/**
 * `node bench/heap-sampling-diff.mjs <a.heapprofile> <requests a> [<b.heapprofile> <requests b>] [--top N]`:
 * bytes allocated per request by function (self), from sampling heap profiles written by
 * bench/lib/heap-sampling.mjs (bench/ingest-allocation.sh with HEAP_SAMPLING_OUT). With two
 * profiles, sorted by a − b. Run the servers with `--no-turbo-inlining` (ingest-allocation.sh's
 * NODE_FLAGS) to charge allocations to the function that makes them rather than to its inliner.
 */
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 30;
if (args.length !== 2 && args.length !== 4) {
  process.stderr.write('usage: node bench/heap-sampling-diff.mjs <a.heapprofile> <requests a> [<b.heapprofile> <requests b>] [--top N]\n');
  process.exit(2);
}
function perRequest(file, requests) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byFunction = new Map();
  let total = 0;
  const walk = (node) => {
    const f = node.callFrame;
    const key = `${f.functionName || '(anonymous)'}  ${f.url.replace(/^.*\/(node_modules|bench|packages|services)\//, '$1/')}:${f.lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + node.selfSize / requests);
    total += node.selfSize / requests;
    for (const child of node.children) walk(child);
  };
  walk(profile.head);
  return { byFunction, total };
}
const a = perRequest(args[0], Number(args[1]));
const b = args.length === 4 ? perRequest(args[2], Number(args[3])) : { byFunction: new Map(), total: 0 };
const fmt = (x) => x.toFixed(0).padStart(7);
process.stdout.write(`bytes per request: a ${fmt(a.total)}${args.length === 4 ? `, b ${fmt(b.total)}` : ''}\n${args.length === 4 ? '  a − b       a       b' : '      a'}\n`);
const rows = [...new Set([...a.byFunction.keys(), ...b.byFunction.keys()])].map((k) => [k, a.byFunction.get(k) ?? 0, b.byFunction.get(k) ?? 0]);
rows.sort((x, y) => y[1] - y[2] - (x[1] - x[2]));
for (const [k, x, y] of rows.slice(0, top)) process.stdout.write(`${args.length === 4 ? `${fmt(x - y)} ${fmt(x)} ${fmt(y)}` : fmt(x)}  ${k}\n`);
