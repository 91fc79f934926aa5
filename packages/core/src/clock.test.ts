import assert from 'node:assert/strict';
import { createPreciseWallClock, preciseWallMs } from './clock.ts';

describe('Precise wall clock (preciseWallMs)', () => {
  it('stays on the wall clock while the monotonic clock drifts away from it', () => {
    // The wall clock gains 1 ms per second on the monotonic one (NTP slewing a slow clock), over
    // 20 minutes: a timeOrigin + performance.now() reading would be 1.2 s behind by the end.
    let monotonic = 5_000.25;
    const wallAt = (m: number) => Math.floor(1_800_000_000_000 + m * 1.001);
    const clock = createPreciseWallClock(() => wallAt(monotonic), () => monotonic);
    let previous = clock();
    for (let step = 0; step < 1_200 * 10; step++) {
      monotonic += 100.125;
      const reading = clock();
      const wall = wallAt(monotonic);
      assert.ok(Math.abs(reading - wall) <= 2.2, `at ${monotonic} ms: ${reading} against the wall's ${wall}`);
      assert.ok(reading - previous > 98, 'a 100 ms step reads as about 100 ms');
      previous = reading;
    }
  });

  it('keeps sub-millisecond precision between re-anchorings', () => {
    let monotonic = 0;
    const clock = createPreciseWallClock(() => 1_800_000_000_000, () => monotonic);
    monotonic = 0.375;
    assert.equal(clock(), 1_800_000_000_000.375);
  });

  it('reads this process within a few ms of Date.now()', () => {
    for (let i = 0; i < 5; i++) {
      const before = Date.now();
      const reading = preciseWallMs();
      const after = Date.now();
      assert.ok(reading >= before - 2 && reading <= after + 2, `${reading} within ${before}..${after}`);
    }
  });
});
