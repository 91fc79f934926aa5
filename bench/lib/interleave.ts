/**
 * Interleaved slices: several servers started side by side on the same pinned core, loaded one at
 * a time in short slices that rotate between them (A B C, B C A, C A B, …), so that the host's
 * drift — on this VM the same server's CPU per event moves by ±20 % from one 2-s slice to the next,
 * and a tight loop does not see it — weighs on every server alike. Each server's figure is the
 * ratio of totals over the interleaving: all the CPU it used while any of them was loaded (its own
 * slices, and what it did during the others': idle timers, exports, the matcher's last events)
 * over the events it accepted. A server instance keeps a speed of its own for its whole life
 * (±5–10 % here), so a comparison needs several groups of fresh servers; its interval resamples
 * groups, then cycles within each (docs/benchmarks.md, "Eighth pass").
 */
import { processCpuSeconds } from './children.ts';

/** One slice: the events the loaded server accepted, and the CPU each server used meanwhile. */
export interface Slice {
  /** The group of servers (fresh servers per group). */
  group: number;
  cycle: number;
  server: string;
  events: number;
  cpuSeconds: number;
  errors: number;
  /** CPU every server of the interleaving used during this slice (the loaded one's is `cpuSeconds`). */
  cpuByServer: Record<string, number>;
}

/** A server of the interleaving and how to load it for `seconds`. */
export interface Loaded {
  name: string;
  pid: number;
  /** Loads the server for `seconds`; returns the events it accepted and the errors. */
  load(seconds: number): Promise<{ events: number; errors: number }>;
}

/**
 * Runs `cycles` cycles of one `sliceS`-second slice per server, rotating the order each cycle.
 * Each slice reads every server's CPU (utime + stime, /proc) before and after its load.
 */
export async function runInterleaved(group: number, servers: Loaded[], cycles: number, sliceS: number, onSlice?: (s: Slice) => void, checkAborted?: () => void): Promise<Slice[]> {
  const slices: Slice[] = [];
  for (let c = 0; c < cycles; c++) {
    for (let k = 0; k < servers.length; k++) {
      checkAborted?.();
      const server = servers[(c + k) % servers.length];
      const before = servers.map((s) => processCpuSeconds(s.pid));
      const { events, errors } = await server.load(sliceS);
      const after = servers.map((s) => processCpuSeconds(s.pid));
      const cpuByServer: Record<string, number> = {};
      servers.forEach((s, i) => {
        if (before[i] === undefined || after[i] === undefined) throw new Error(`server ${s.name} (pid ${s.pid}) is gone`);
        cpuByServer[s.name] = after[i]! - before[i]!;
      });
      const slice = { group, cycle: c + 1, server: server.name, events, cpuSeconds: cpuByServer[server.name], errors, cpuByServer };
      slices.push(slice);
      onSlice?.(slice);
    }
  }
  return slices;
}

/**
 * A server's totals: the events of its slices, and all the CPU it used during the interleaving
 * (its own slices and the others'); µs of CPU per event is their ratio. Several groups: summed.
 */
export function totals(slices: readonly Slice[], server: string, sliceS: number): { events: number; cpuSeconds: number; ownCpuSeconds: number; usPerEvent: number; eventsPerSecond: number } {
  let events = 0;
  let cpuSeconds = 0;
  let ownCpuSeconds = 0;
  let n = 0;
  for (const s of slices) {
    cpuSeconds += s.cpuByServer[server] ?? 0;
    if (s.server !== server) continue;
    events += s.events;
    ownCpuSeconds += s.cpuSeconds;
    n++;
  }
  return { events, cpuSeconds, ownCpuSeconds, usPerEvent: events > 0 ? (cpuSeconds / events) * 1e6 : NaN, eventsPerSecond: n > 0 ? events / (n * sliceS) : 0 };
}

/** A small seeded generator (mulberry32), so a run's interval is reproducible from its slices. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `a`'s CPU per event against `b`'s, minus one (+0.10 = 10 % more CPU per event), from the ratio
 * of totals, with a 95 % interval from a two-stage bootstrap: groups resampled, then the cycles
 * within each group (a cycle holds one slice of each server, back to back, so a pair stays together).
 */
export function compare(slices: readonly Slice[], a: string, b: string, resamples = 4000, seed = 1): { overhead: number; low: number; high: number } {
  // Per group, per cycle: a's and b's events and CPU.
  type Row = { ae: number; ac: number; be: number; bc: number };
  const groups = new Map<number, Map<number, Row>>();
  for (const s of slices) {
    let cycles = groups.get(s.group);
    if (!cycles) groups.set(s.group, (cycles = new Map()));
    let row = cycles.get(s.cycle);
    if (!row) cycles.set(s.cycle, (row = { ae: 0, ac: 0, be: 0, bc: 0 }));
    row.ac += s.cpuByServer[a] ?? 0;
    row.bc += s.cpuByServer[b] ?? 0;
    if (s.server === a) row.ae += s.events;
    else if (s.server === b) row.be += s.events;
  }
  const table = [...groups.values()].map((cycles) => [...cycles.values()]);
  const ratio = (picked: Row[][]) => {
    let ae = 0, ac = 0, be = 0, bc = 0;
    for (const rows of picked)
      for (const r of rows) {
        ae += r.ae;
        ac += r.ac;
        be += r.be;
        bc += r.bc;
      }
    return ac / ae / (bc / be) - 1;
  };
  const overhead = ratio(table);
  const random = seeded(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)];
  const draws: number[] = [];
  for (let i = 0; i < resamples; i++) {
    const picked = Array.from({ length: table.length }, () => {
      const rows = pick(table);
      return Array.from({ length: rows.length }, () => pick(rows));
    });
    const r = ratio(picked);
    if (Number.isFinite(r)) draws.push(r);
  }
  draws.sort((x, y) => x - y);
  const at = (p: number) => (draws.length === 0 ? NaN : draws[Math.min(draws.length - 1, Math.max(0, Math.floor(p * draws.length)))]);
  return { overhead, low: at(0.025), high: at(0.975) };
}
