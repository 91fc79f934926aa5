/**
 * Best-effort mapping of profile positions in TypeScript files back to source lines.
 * tsx compiles each .ts file to (mostly) one line of JavaScript, so a CPU profile's
 * `file.ts:1:1895` says little. tsx keeps every compiled file, with its source map, in its cache
 * folder (os.tmpdir()/tsx-<uid>/, JSON `{code, map}`); the newest entry per source is assumed to be
 * the one the profiled server ran (true when the source was not edited since).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

type Segment = [genCol: number, srcLine: number];

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Map([...B64].map((c, i) => [c, i]));

/** Decodes a v3 `mappings` string into, per generated line, [generated column, original line] pairs. */
function decodeMappings(mappings: string): Segment[][] {
  const lines: Segment[][] = [];
  let srcLine = 0;
  for (const lineText of mappings.split(';')) {
    const segments: Segment[] = [];
    let genCol = 0;
    for (const segText of lineText.split(',')) {
      if (!segText) continue;
      const values: number[] = [];
      let value = 0;
      let shift = 0;
      for (const ch of segText) {
        const digit = B64_INDEX.get(ch);
        if (digit === undefined) break;
        value += (digit & 31) << shift;
        if (digit & 32) {
          shift += 5;
        } else {
          values.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      genCol += values[0] ?? 0;
      if (values.length >= 4) {
        srcLine += values[2];
        segments.push([genCol, srcLine]);
      }
    }
    lines.push(segments);
  }
  return lines;
}

interface Candidate {
  mtime: number;
  lines: string[];
  mappings: string;
  decoded?: Segment[][];
}

export class TsxSourceMaps {
  private readonly bySource = new Map<string, Candidate[]>();
  private readonly chosen = new Map<string, Candidate>();

  constructor(cacheDir = path.join(os.tmpdir(), `tsx-${os.userInfo().uid}`)) {
    let files: string[] = [];
    try {
      files = readdirSync(cacheDir);
    } catch {
      return;
    }
    for (const name of files) {
      const file = path.join(cacheDir, name);
      try {
        const mtime = statSync(file).mtimeMs;
        const entry = JSON.parse(readFileSync(file, 'utf8')) as { code?: string; map?: { sources?: string[]; mappings?: string } };
        const source = entry.map?.sources?.length === 1 ? entry.map.sources[0] : undefined;
        if (!source || typeof entry.map?.mappings !== 'string' || typeof entry.code !== 'string') continue;
        const list = this.bySource.get(source) ?? [];
        list.push({ mtime, lines: entry.code.split('\n'), mappings: entry.map.mappings });
        this.bySource.set(source, list);
      } catch {
        // not a cache entry we understand
      }
    }
    for (const list of this.bySource.values()) list.sort((a, b) => b.mtime - a.mtime);
  }

  /**
   * 1-based original line for a 0-based generated position in `file`, or undefined.
   * A source may have several cached compilations (edits, ESM and CJS); the right one is the one
   * whose code has `functionName` just before `column` (V8 reports a function at its parameter list).
   */
  originalLine(file: string, line: number, column: number, functionName: string): number | undefined {
    const candidates = this.bySource.get(file);
    if (!candidates) return undefined;
    let candidate: Candidate | undefined;
    const bare = functionName.split('.').pop() ?? '';
    if (bare) {
      candidate = candidates.find((c) => (c.lines[line] ?? '').slice(Math.max(0, column - bare.length - 8), column).includes(bare));
      if (candidate) this.chosen.set(file, candidate);
    }
    if (!candidate) {
      // Anonymous: the code at `column` must look like the start of a function (parameters or an arrow).
      const plausible = (c: Candidate) => /^(\(|[\w$]+\s*=>|async\b|function\b)/.test((c.lines[line] ?? '').slice(column));
      const chosen = this.chosen.get(file);
      candidate = chosen && plausible(chosen) ? chosen : candidates.find(plausible);
    }
    if (!candidate) return undefined;
    candidate.decoded ??= decodeMappings(candidate.mappings);
    const segments = candidate.decoded[line];
    if (!segments || segments.length === 0) return undefined;
    let best: Segment | undefined;
    for (const segment of segments) {
      if (segment[0] <= column) best = segment;
      else break;
    }
    return best ? best[1] + 1 : undefined;
  }
}
