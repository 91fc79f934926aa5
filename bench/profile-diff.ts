/**
 * `npx tsx bench/profile-diff.ts <a.cpuprofile> <events a> <b.cpuprofile> <events b> [--top N]`:
 * self time per event (µs) of two V8 profiles, by function and by area, sorted by a − b. The
 * profiles of `npm run bench -- --cpu-prof` (bench/results/profiles/<server>/…) cover the server's
 * whole life, so divide by the events it took in (warm-up plus measurement): start-up work shows up
 * too, in functions of its own (module loading). Used for tracing's cost (docs/benchmarks.md, sixth
 * pass): the `on` server against the `off` one.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { summarizeProfile, type ProfileSummary } from './lib/cpuprofile.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '40' } } });
if (positionals.length !== 4) {
  process.stderr.write('usage: tsx bench/profile-diff.ts <a.cpuprofile> <events a> <b.cpuprofile> <events b> [--top N]\n');
  process.exit(2);
}
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [fileA, eventsA, fileB, eventsB] = positionals;
const load = (file: string) => summarizeProfile(file, { root, top: 100_000 });
const perEvent = (entries: [string, number][], events: number) => new Map(entries.map(([k, ms]) => [k, (ms * 1000) / events]));
const diff = (a: Map<string, number>, b: Map<string, number>) =>
  [...new Set([...a.keys(), ...b.keys()])].map((k) => ({ key: k, a: a.get(k) ?? 0, b: b.get(k) ?? 0 })).sort((x, y) => y.a - y.b - (x.a - x.b));

const [a, b] = [load(fileA), load(fileB)];
const functions = (s: ProfileSummary) => s.topSelf.map((f) => [`${f.function}  ${f.location}`, f.ms] as [string, number]);
const areas = (s: ProfileSummary) => s.byArea.map((x) => [x.area, x.ms] as [string, number]);
const fmt = (x: number) => x.toFixed(2).padStart(7);
const top = Number(values.top);

process.stdout.write(`µs per event: a ${fmt((a.sampledMs * 1000) / Number(eventsA))}, b ${fmt((b.sampledMs * 1000) / Number(eventsB))}\n\nby area (a − b, a, b):\n`);
for (const row of diff(perEvent(areas(a), Number(eventsA)), perEvent(areas(b), Number(eventsB)))) {
  if (Math.abs(row.a - row.b) >= 0.5) process.stdout.write(`${fmt(row.a - row.b)} ${fmt(row.a)} ${fmt(row.b)}  ${row.key}\n`);
}
process.stdout.write(`\nfunctions, largest a − b first (a − b, a, b):\n`);
for (const row of diff(perEvent(functions(a), Number(eventsA)), perEvent(functions(b), Number(eventsB))).slice(0, top)) {
  process.stdout.write(`${fmt(row.a - row.b)} ${fmt(row.a)} ${fmt(row.b)}  ${row.key}\n`);
}
