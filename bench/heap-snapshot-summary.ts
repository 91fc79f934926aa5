/**
 * `npx tsx bench/heap-snapshot-summary.ts <file.heapsnapshot> [--top N]`: live objects of a V8
 * heap snapshot by kind (objects and closures by constructor name, the rest by node type), with
 * counts and self sizes, most numerous first. Take the snapshot of a loaded server with
 * `node --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=DIR …` and `kill -USR2 <pid>`
 * (docs/benchmarks.md, tracing's sixth pass: what the scavenges copy).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '45' } } });
if (positionals.length !== 1) {
  process.stderr.write('usage: tsx bench/heap-snapshot-summary.ts <file.heapsnapshot> [--top N]\n');
  process.exit(2);
}
interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}
const snap = JSON.parse(readFileSync(positionals[0], 'utf8')) as Snapshot;
const fields = snap.snapshot.meta.node_fields;
const types = snap.snapshot.meta.node_types[0];
const [width, typeAt, nameAt, sizeAt] = [fields.length, fields.indexOf('type'), fields.indexOf('name'), fields.indexOf('self_size')];
const kinds = new Map<string, { count: number; bytes: number }>();
for (let i = 0; i < snap.nodes.length; i += width) {
  const type = types[snap.nodes[i + typeAt]];
  const kind = type === 'object' || type === 'closure' ? `${type}:${snap.strings[snap.nodes[i + nameAt]]}` : type;
  const entry = kinds.get(kind) ?? { count: 0, bytes: 0 };
  entry.count++;
  entry.bytes += snap.nodes[i + sizeAt];
  kinds.set(kind, entry);
}
process.stdout.write('   count       bytes  kind\n');
for (const [kind, { count, bytes }] of [...kinds].sort((x, y) => y[1].count - x[1].count).slice(0, Number(values.top))) {
  process.stdout.write(`${String(count).padStart(8)} ${String(bytes).padStart(11)}  ${kind.slice(0, 90)}\n`);
}
