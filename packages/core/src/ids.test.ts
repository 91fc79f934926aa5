import assert from 'node:assert/strict';
import { UUID_PATTERN, uuidv7, uuidv7Time } from './ids.ts';
import { toIsoMillis } from './clock.ts';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('UUIDv7 ids and millisecond timestamps', function () {
  it('formats version 7, variant 10xx ids that carry their millisecond and sort in the order made', function () {
    // The generator's state is the process's: only times a few ms ahead of now, so the ids other
    // tests make afterwards are not pushed into the future.
    const now = Date.now() + 2;
    const times = [now, now, now + 1, now + 3];
    let previous = '';
    for (const ms of times) {
      for (let i = 0; i < 300; i++) {
        const id = uuidv7(ms);
        assert.match(id, V7);
        assert.match(id, UUID_PATTERN);
        assert.equal(uuidv7Time(id), ms);
        assert.ok(id > previous, `${id} sorts after ${previous}`);
        previous = id;
      }
    }
  });

  it('keeps increasing when the clock goes back, borrowing the next millisecond when the counter runs out', function () {
    const base = Date.now() + 5;
    const first = uuidv7(base);
    const ids = Array.from({ length: 5000 }, () => uuidv7(base - 10));
    assert.ok(ids.every((id, i) => id > (i === 0 ? first : ids[i - 1])));
    assert.equal(uuidv7Time(ids[0]), base);
    assert.ok(uuidv7Time(ids.at(-1)!) > base, 'the 4,096th id of a millisecond moves to the next one');
  });

  it('formats each millisecond as ISO 8601, also when calls alternate between milliseconds', function () {
    const a = Date.UTC(2026, 11, 2, 15, 30, 1, 7);
    const b = a + 1;
    for (const ms of [a, a, b, a, b, b, 0]) assert.equal(toIsoMillis(ms), new Date(ms).toISOString());
    assert.throws(() => toIsoMillis(Number.NaN), RangeError);
  });
});
