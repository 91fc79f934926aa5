/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function, self time per
 * package/area, and inclusive ("total") time per function. Optionally restricted to a time window
 * given in the CLOCK_MONOTONIC microseconds V8 stamps its samples with (the same clock as
 * process.hrtime in any process on the machine), so warm-up and start-up can be left out.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TsxSourceMaps } from './tsx-sourcemaps.ts';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionTime {
  function: string;
  location: string;
  area: string;
  ms: number;
  percent: number;
}

export interface ProfileSummary {
  file: string;
  sampledMs: number;
  windowApplied: boolean;
  topSelf: FunctionTime[];
  byArea: { area: string; ms: number; percent: number }[];
  topTotal: FunctionTime[];
}

export function areaOf(frame: CallFrame, root: string): string {
  const url = frame.url;
  if (!url) {
    if (frame.functionName.startsWith('(')) return frame.functionName; // (garbage collector), (program), (idle)
    return '(native)';
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0] === 'internal' ? 'internal/' + url.slice(5).split('/')[1] : url.slice(5)}`;
  const file = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = file.slice(nm + '/node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const rel = path.relative(root, file);
  if (!rel.startsWith('..')) {
    const parts = rel.split(path.sep);
    return parts.length >= 2 ? `${parts[0]}/${parts[1]}` : rel;
  }
  return file;
}

let sourceMaps: TsxSourceMaps | undefined;

function locationOf(frame: CallFrame, root: string): string {
  if (!frame.url) return '';
  const absolute = frame.url.startsWith('file://') ? decodeURIComponent(new URL(frame.url).pathname) : frame.url;
  let file = absolute;
  let line = frame.lineNumber + 1;
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) file = file.slice(nm + '/node_modules/'.length);
  else if (file.startsWith(root)) file = path.relative(root, file);
  if (nm < 0 && /\.[cm]?tsx?$/.test(absolute)) {
    sourceMaps ??= new TsxSourceMaps();
    const original = sourceMaps.originalLine(absolute, frame.lineNumber, frame.columnNumber, frame.functionName);
    if (original !== undefined) line = original;
  }
  return `${file}:${line}`;
}

export function summarizeProfile(
  file: string,
  options: { root: string; windowUs?: [number, number]; top?: number },
): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const top = options.top ?? 25;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  // Resolve named functions first: they tell which cached compilation of a .ts file was run.
  for (const node of profile.nodes) if (node.callFrame.functionName) locationOf(node.callFrame, options.root);
  const keyOf = (node: ProfileNode) => `${node.callFrame.functionName || '(anonymous)'}\u0000${locationOf(node.callFrame, options.root)}`;

  // Sample i is stamped at startTime + sum(timeDeltas[0..i]); it stands for the time until the next one.
  const stamps: number[] = new Array(profile.samples.length);
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    stamps[i] = t;
  }
  let windowApplied = false;
  let from = -Infinity;
  let to = Infinity;
  if (options.windowUs) {
    const [a, b] = options.windowUs;
    const overlap = stamps.some((s) => s >= a && s <= b);
    if (overlap) {
      from = a;
      to = b;
      windowApplied = true;
    }
  }

  const self = new Map<string, { ms: number; node: ProfileNode }>();
  const total = new Map<string, { ms: number; node: ProfileNode }>();
  const area = new Map<string, number>();
  let sampled = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    if (stamps[i] < from || stamps[i] > to) continue;
    const next = i + 1 < stamps.length ? stamps[i + 1] : profile.endTime;
    const ms = Math.max(0, next - stamps[i]) / 1000;
    const node = byId.get(profile.samples[i]);
    if (!node) continue;
    sampled += ms;
    const key = keyOf(node);
    const entry = self.get(key) ?? { ms: 0, node };
    entry.ms += ms;
    self.set(key, entry);
    const a = areaOf(node.callFrame, options.root);
    area.set(a, (area.get(a) ?? 0) + ms);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id)!;
      const k = keyOf(n);
      if (seen.has(k)) continue;
      seen.add(k);
      const e = total.get(k) ?? { ms: 0, node: n };
      e.ms += ms;
      total.set(k, e);
    }
  }
  const pct = (ms: number) => Math.round((ms / (sampled || 1)) * 1000) / 10;
  const r = (ms: number) => Math.round(ms);
  const toRows = (map: Map<string, { ms: number; node: ProfileNode }>, skip: (n: ProfileNode) => boolean) =>
    [...map.values()]
      .filter((e) => !skip(e.node))
      .sort((x, y) => y.ms - x.ms)
      .slice(0, top)
      .map((e) => ({
        function: e.node.callFrame.functionName || '(anonymous)',
        location: locationOf(e.node.callFrame, options.root),
        area: areaOf(e.node.callFrame, options.root),
        ms: r(e.ms),
        percent: pct(e.ms),
      }));
  return {
    file,
    sampledMs: r(sampled),
    windowApplied,
    topSelf: toRows(self, () => false),
    byArea: [...area].sort((x, y) => y[1] - x[1]).slice(0, top).map(([a, ms]) => ({ area: a, ms: r(ms), percent: pct(ms) })),
    topTotal: toRows(total, (n) => n.callFrame.functionName === '(root)' || (!n.callFrame.url && !n.callFrame.functionName)),
  };
}

export function formatProfileSummary(summary: ProfileSummary, top = 20): string {
  const lines: string[] = [];
  lines.push(`CPU profile ${summary.file}`);
  lines.push(`  ${summary.sampledMs} ms sampled${summary.windowApplied ? ' (measurement window only)' : ' (whole process lifetime)'}`);
  lines.push('  Self time by area:');
  for (const a of summary.byArea.slice(0, 15)) lines.push(`    ${a.percent.toFixed(1).padStart(5)}%  ${String(a.ms).padStart(7)} ms  ${a.area}`);
  lines.push('  Top functions by self time:');
  for (const f of summary.topSelf.slice(0, top)) {
    lines.push(`    ${f.percent.toFixed(1).padStart(5)}%  ${String(f.ms).padStart(7)} ms  ${f.function}  ${f.location}`);
  }
  lines.push('  Top functions by total (inclusive) time:');
  for (const f of summary.topTotal.slice(0, top)) {
    lines.push(`    ${f.percent.toFixed(1).padStart(5)}%  ${String(f.ms).padStart(7)} ms  ${f.function}  ${f.location}`);
  }
  return lines.join('\n');
}
