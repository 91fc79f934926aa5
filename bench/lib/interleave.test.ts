import assert from 'node:assert/strict';
import { compare, runInterleaved, totals, type Slice } from './interleave.ts';

/** The interleaved slices of `ingest-traced` (bench/lib/interleave.ts): rotation, totals, the interval. */
/** A slice of `server` in group `group`, cycle `cycle`, with the CPU of every server during it. */
function slice(group: number, cycle: number, server: string, events: number, cpuByServer: Record<string, number>): Slice {
  return { group, cycle, server, events, cpuSeconds: cpuByServer[server], errors: 0, cpuByServer };
}

describe('bench: interleaved slices', function () {
  it('rotates the order each cycle and reads each loaded server’s own CPU', async function () {
    const order: string[] = [];
    const server = (name: string) => ({
      name,
      pid: process.pid,
      load: async (seconds: number) => {
        order.push(name);
        // Burn a little CPU in this process (the "server"), so the slice's CPU is above zero.
        const until = Date.now() + 20 * seconds;
        while (Date.now() < until);
        return { events: 10, errors: 0 };
      },
    });
    const slices = await runInterleaved(1, [server('a'), server('b'), server('c')], 3, 1);
    assert.deepEqual(order, ['a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b']);
    assert.deepEqual(
      slices.map((s) => [s.cycle, s.server]),
      order.map((name, i) => [Math.floor(i / 3) + 1, name]),
    );
    for (const s of slices) {
      assert.ok(s.events === 10 && s.group === 1);
      // All three "servers" are this process: each slice reads the same CPU for every one of them.
      assert.deepEqual(Object.keys(s.cpuByServer), ['a', 'b', 'c']);
      assert.equal(s.cpuByServer[s.server], s.cpuSeconds);
      assert.ok(s.cpuSeconds > 0);
    }
  });

  it('takes the ratio of totals, not the mean of per-slice ratios, and counts what a server did during the others’ slices', function () {
    // a: 1 s for 1,000 events, then 1 s for 3,000: 500 µs per event over both (the mean of the slices would be 666)…
    const slices: Slice[] = [
      slice(1, 1, 'a', 1000, { a: 1, b: 0.1 }),
      slice(1, 2, 'a', 3000, { a: 1, b: 0.1 }),
    ];
    const t = totals(slices, 'a', 2);
    assert.equal(t.usPerEvent, 500);
    assert.equal(t.eventsPerSecond, 1000);
    // …and b's CPU while a was loaded has no events of b's to go with it.
    assert.ok(Number.isNaN(totals(slices, 'b', 2).usPerEvent));
    // Its own slice: its CPU there plus what it used in a's.
    slices.push(slice(1, 3, 'b', 1000, { a: 0.05, b: 0.3 }));
    assert.ok(Math.abs(totals(slices, 'b', 2).usPerEvent - 500) < 1e-9);
    assert.ok(Math.abs(totals(slices, 'a', 2).usPerEvent - 512.5) < 1e-9);
    assert.equal(totals(slices, 'b', 2).ownCpuSeconds, 0.3);
  });

  it('finds a 10 % difference under noise that moves both servers of a cycle alike, with an interval around it', function () {
    const slices: Slice[] = [];
    for (let c = 1; c <= 40; c++) {
      // The host's speed this cycle: ±30 %, the same for both servers of the cycle.
      const speed = 1 + 0.3 * Math.sin(c * 2.3);
      slices.push(slice(1 + (c % 4), c, 'off', 2000, { off: 2000 * 300e-6 * speed, on: 0 }));
      slices.push(slice(1 + (c % 4), c, 'on', 2000, { off: 0, on: 2000 * 330e-6 * speed }));
    }
    const r = compare(slices, 'on', 'off');
    assert.ok(Math.abs(r.overhead - 0.1) < 1e-9, String(r.overhead));
    assert.ok(r.low <= r.overhead && r.overhead <= r.high);
    assert.ok(r.high - r.low < 0.02, `interval ${r.low}–${r.high}`);
  });

  it('widens the interval when groups of fresh servers disagree, however steady each one is', function () {
    const slices: Slice[] = [];
    // Four groups; in each, the on server is 0 % or 20 % dearer than its off server, steadily.
    for (let g = 1; g <= 4; g++)
      for (let c = 1; c <= 20; c++) {
        const on = g % 2 === 0 ? 300e-6 : 360e-6;
        slices.push(slice(g, c, 'off', 2000, { off: 2000 * 300e-6, on: 0 }));
        slices.push(slice(g, c, 'on', 2000, { off: 0, on: 2000 * on }));
      }
    const r = compare(slices, 'on', 'off');
    assert.ok(Math.abs(r.overhead - 0.1) < 1e-9);
    assert.ok(r.low <= 0.03 && r.high >= 0.17, `interval ${r.low}–${r.high}`);
  });

  it('widens the interval when the two servers of a cycle disagree', function () {
    const slices: Slice[] = [];
    for (let c = 1; c <= 40; c++) {
      // Independent noise per slice: the interval must show it.
      slices.push(slice(1, c, 'off', 2000, { off: 2000 * 300e-6 * (1 + 0.2 * Math.sin(c * 1.7)), on: 0 }));
      slices.push(slice(1, c, 'on', 2000, { off: 0, on: 2000 * 330e-6 * (1 + 0.2 * Math.cos(c * 2.9)) }));
    }
    const r = compare(slices, 'on', 'off');
    assert.ok(r.high - r.low > 0.05, `interval ${r.low}–${r.high}`);
    assert.ok(r.low < r.overhead && r.overhead < r.high);
  });
});
