/**
 * Prints a summary of a V8 .cpuprofile: `npx tsx bench/profile-summary.ts <file.cpuprofile> [--top N]`.
 * (`npm run bench -- --cpu-prof` writes one per server and summarises it itself.)
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatProfileSummary, summarizeProfile } from './lib/cpuprofile.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
if (positionals.length === 0) {
  process.stderr.write('usage: tsx bench/profile-summary.ts <file.cpuprofile> [--top N]\n');
  process.exit(2);
}
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
for (const file of positionals) {
  const top = Number(values.top);
  process.stdout.write(formatProfileSummary(summarizeProfile(file, { root, top }), top) + '\n');
}
