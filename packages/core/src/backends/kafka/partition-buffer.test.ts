import assert from 'node:assert/strict';
import { keyAdmission, PartitionBuffer, type BufferedEntry } from './partition-buffer.ts';
import { formatMarker, markerCovers, parseMarker, type ReceiveMarker } from './receive-marker.ts';
import type { Envelope } from './topology.ts';

function envelope(id: string, key: string | null = null, receives = 0): Envelope {
  return { id, key, value: JSON.stringify(id), enqueuedAt: 0, receives };
}

function fill(buffer: PartitionBuffer, from: number, keys: (string | null)[], now = 0): void {
  buffer.append(
    keys.map((key, i) => ({ offset: from + i, envelope: envelope(`m${from + i}`, key) })),
    from + keys.length,
    now,
  );
}

function collect(buffer: PartitionBuffer, now = 0, limit = 100, serializeKeys = false): BufferedEntry[] {
  const out: BufferedEntry[] = [];
  buffer.collect(now, limit, serializeKeys, out);
  return out;
}

const offsets = (entries: BufferedEntry[]) => entries.map((e) => e.offset);

describe('Kafka partition buffer', function () {
  describe('commit position', function () {
    it('starts at the offset the partition was first fetched from', function () {
      const buffer = new PartitionBuffer(0, 42);
      assert.equal(buffer.commitPosition(), 42);
      assert.equal(buffer.committed, 42);
    });

    it('moves only over a contiguous prefix of settled offsets, whatever order they settle in', function () {
      const buffer = new PartitionBuffer(0, 10);
      fill(buffer, 10, [null, null, null, null, null]);
      const [m10, m11, m12, m13, m14] = collect(buffer);
      buffer.settle(m13);
      buffer.settle(m11);
      assert.equal(buffer.commitPosition(), 10, 'offset 10 is still open');
      buffer.settle(m10);
      assert.equal(buffer.commitPosition(), 12, 'past 10 and 11, stopped at the open 12');
      buffer.settle(m12);
      assert.equal(buffer.commitPosition(), 14, 'past 13, settled earlier');
      buffer.settle(m14);
      assert.equal(buffer.commitPosition(), 15, 'everything fetched is settled');
      assert.equal(buffer.size, 0);
    });

    it('counts a fetch that ends past its last message (filtered control records) as settled', function () {
      const buffer = new PartitionBuffer(0, 0);
      buffer.append([{ offset: 0, envelope: envelope('a') }], 3, 0);
      const [a] = collect(buffer);
      buffer.settle(a);
      assert.equal(buffer.commitPosition(), 3);
    });

    it('keeps working after many settled entries are trimmed', function () {
      const buffer = new PartitionBuffer(0, 0);
      fill(buffer, 0, Array.from({ length: 3000 }, () => null));
      for (const entry of collect(buffer, 0, 3000)) buffer.settle(entry);
      assert.equal(buffer.commitPosition(), 3000);
      fill(buffer, 3000, [null]);
      assert.deepEqual(offsets(collect(buffer)), [3000]);
    });
  });

  describe('append', function () {
    it('skips offsets it already holds or settled (kafkajs fetches again from the committed offset after a rebalance)', function () {
      const buffer = new PartitionBuffer(0, 0);
      fill(buffer, 0, [null, null, null]);
      const [m0] = collect(buffer);
      buffer.settle(m0);
      const added = buffer.append([0, 1, 2, 3].map((offset) => ({ offset, envelope: envelope(`again${offset}`) })), 4, 0);
      assert.equal(added, 1);
      assert.deepEqual(offsets(collect(buffer)), [1, 2, 3]);
    });
  });

  describe('collect', function () {
    it('offers visible entries in offset order, up to the limit, and tells when the next hidden one shows', function () {
      const buffer = new PartitionBuffer(0, 0);
      fill(buffer, 0, [null, null, null, null]);
      const all = collect(buffer);
      all[0].visibleAt = 500;
      all[2].visibleAt = 300;
      const out: BufferedEntry[] = [];
      const { nextVisibleAt } = buffer.collect(100, 10, false, out);
      assert.deepEqual(offsets(out), [1, 3]);
      assert.equal(nextVisibleAt, 300);
      assert.deepEqual(offsets(collect(buffer, 100, 1)), [1]);
    });

    it('never offers an entry being moved or already settled', function () {
      const buffer = new PartitionBuffer(0, 0);
      fill(buffer, 0, [null, null, null]);
      const [m0, m1] = collect(buffer);
      m0.state = 'moving';
      buffer.settle(m1);
      assert.deepEqual(offsets(collect(buffer)), [2]);
    });

    it('with serializeKeys, holds an entry back while an earlier entry with its key is unsettled', function () {
      const buffer = new PartitionBuffer(0, 0);
      fill(buffer, 0, ['a', 'b', 'a', null, 'b', 'c']);
      assert.deepEqual(offsets(collect(buffer, 0, 100, true)), [0, 1, 3, 5]);
      assert.deepEqual(offsets(collect(buffer, 0, 100, false)), [0, 1, 2, 3, 4, 5], 'without it, keys do not wait');
      const [m0] = collect(buffer, 0, 1, true);
      m0.state = 'in-flight';
      m0.visibleAt = 1000;
      assert.deepEqual(offsets(collect(buffer, 0, 100, true)), [1, 3, 5], 'a:2 waits for the in-flight a:0');
      buffer.settle(m0);
      assert.deepEqual(offsets(collect(buffer, 0, 100, true)), [1, 2, 3, 5]);
    });
  });

  describe('key room (keyAdmission)', function () {
    it('leaves the entries of a key past its room, or skipped, in place and hands out the others in offset order', function () {
      const buffer = new PartitionBuffer(0, 0);
      fill(buffer, 0, ['slow', 'slow', 'full', 'other', 'slow', 'other', 'other', null, 'skip', null]);
      const out: BufferedEntry[] = [];
      const room = { perKey: 2, keys: new Map([['slow', 1], ['full', 0]]) };
      buffer.collect(0, 100, false, out, keyAdmission(['skip'], room));
      assert.deepEqual(offsets(out), [0, 3, 5, 7, 9], 'slow: room 1; full: none; other: the default 2; skip: skipped; unkeyed: unlimited');
      const again: BufferedEntry[] = [];
      buffer.collect(0, 100, false, again, keyAdmission(undefined, { perKey: 10, keys: new Map() }));
      assert.deepEqual(offsets(again), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'what was left is still ready, in its place');
    });

    it('counts room per receive, and a limit of entries ends the scan first', function () {
      const buffer = new PartitionBuffer(0, 0);
      fill(buffer, 0, ['a', 'a', 'a', 'b', 'b']);
      const admit = keyAdmission(undefined, { perKey: 2, keys: new Map() });
      const first: BufferedEntry[] = [];
      buffer.collect(0, 1, false, first, admit);
      first[0].state = 'in-flight';
      first[0].visibleAt = 1000;
      const rest: BufferedEntry[] = [];
      buffer.collect(0, 100, false, rest, admit);
      assert.deepEqual([offsets(first), offsets(rest)], [[0], [1, 3, 4]], 'one admission spans both collects: a has room 2 in all');
      assert.equal(keyAdmission(undefined, undefined), undefined, 'no limits: no check');
      assert.equal(keyAdmission([], undefined), undefined);
    });
  });

  it('counts in-flight and settled-but-uncommittable entries', function () {
    const buffer = new PartitionBuffer(0, 0);
    fill(buffer, 0, [null, null, null, null]);
    const [m0, m1, m2] = collect(buffer);
    m0.state = 'in-flight';
    m1.state = 'moving';
    buffer.settle(m2);
    assert.deepEqual(buffer.counts(), { inFlight: 2, settled: 1 });
    assert.equal(buffer.unsettled().length, 3);
  });
  describe('receive marker (receive counts kept with the committed offset)', function () {
    /** Hands out an entry as the consumer does: counted, in flight. */
    function handOut(buffer: PartitionBuffer, entry: BufferedEntry): void {
      buffer.countReceive(entry);
      entry.state = 'in-flight';
      entry.visibleAt = Number.POSITIVE_INFINITY;
    }

    /**
     * The marker of the buffered entries by its definition, walking every one from the commit
     * position on (what `markerToWrite` did on every commit before it kept its counts as entries
     * change); the stored and earlier owners' markers left out.
     */
    function markerByWalk(buffer: PartitionBuffer, buffered: BufferedEntry[]): ReceiveMarker | null {
      const from = buffer.commitPosition();
      let to = from;
      let head = 0;
      let rest = 0;
      for (const entry of buffered) {
        const receives = entry.receives - entry.envelope.receives + (buffer.wanted.has(entry) ? 1 : 0);
        if (entry.offset < from || receives <= 0) continue;
        to = Math.max(to, entry.offset + 1);
        if (entry.offset === from) head = receives;
        else rest = Math.max(rest, receives);
      }
      return to > from ? { from, to, head, rest } : null;
    }

    it('keeps the marker its definition gives through any mix of fetches, receives, marker requests, commits and settles (no walk)', function () {
      let seed = 7;
      const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      for (let round = 0; round < 40; round++) {
        const prior = round % 3 === 0 ? { from: 0, to: 1 + Math.floor(random() * 30), head: 1 + Math.floor(random() * 3), rest: Math.floor(random() * 3) } : null;
        const buffer = new PartitionBuffer(0, 0, prior);
        const buffered: BufferedEntry[] = [];
        let next = 0;
        for (let step = 0; step < 400; step++) {
          const op = random();
          if (op < 0.15) {
            const size = 1 + Math.floor(random() * 20);
            fill(buffer, next, Array.from({ length: size }, () => (random() < 0.5 ? 'k' : null)));
            buffered.push(...collect(buffer, Number.POSITIVE_INFINITY, 1_000_000).filter((e) => e.offset >= next));
            next += size;
          } else if (op < 0.45) {
            for (const entry of collect(buffer, 0, 1 + Math.floor(random() * 5))) {
              if (buffer.covers(entry)) handOut(buffer, entry);
              else buffer.requestMarker(entry);
            }
          } else if (op < 0.6) {
            buffer.durable = buffer.markerToWrite();
            buffer.unwant([...buffer.wanted]);
          } else if (op < 0.9) {
            const open = buffer.unsettled().filter((e) => e.state === 'in-flight');
            if (open.length > 0) buffer.settle(open[Math.floor(random() * open.length)]);
          } else {
            // A visibility timeout passed: in-flight entries may be handed out again.
            for (const entry of buffer.unsettled()) if (entry.state === 'in-flight' && random() < 0.3) entry.visibleAt = 0;
          }
          if (prior && buffer.fetchedUpTo < prior.to) continue; // the earlier owner's unfetched offsets count too
          const durable = buffer.durable;
          buffer.durable = null;
          assert.deepEqual(buffer.markerToWrite(), markerByWalk(buffer, buffered), `round ${round}, step ${step}`);
          buffer.durable = durable;
        }
      }
    });

    it('round-trips through the commit metadata, and is ignored at another offset or when foreign', function () {
      const marker = { from: 7, to: 12, head: 3, rest: 1 };
      assert.deepEqual(parseMarker(formatMarker(marker), 7), marker);
      assert.equal(parseMarker(formatMarker(marker), 8), null, 'written at another committed offset: stale');
      assert.equal(parseMarker('consumer-x', 7), null);
      assert.equal(parseMarker('{"v":"r1","from":7,"to":7,"head":1,"rest":0}', 7), null, 'an empty range');
      assert.equal(formatMarker(null), null);
    });

    it('nothing may be handed out before a marker counts the receive; one marker covers every buffered message', function () {
      const buffer = new PartitionBuffer(0, 0);
      fill(buffer, 0, [null, null, null, null]);
      const [m0, m1] = collect(buffer);
      assert.equal(buffer.covers(m0), false);
      buffer.requestMarker(m0);
      assert.deepEqual(buffer.markerToWrite(), { from: 0, to: 4, head: 1, rest: 1 });
      buffer.durable = buffer.markerToWrite();
      buffer.unwant([...buffer.wanted]);
      assert.ok(buffer.covers(m0) && buffer.covers(m1), 'the whole batch with one write');
      handOut(buffer, m0);
      assert.equal(buffer.covers(m0), false, 'a second receive needs another marker');
    });

    it('never shrinks below the stored marker while the commit position is inside it (messages go out under it meanwhile)', function () {
      const buffer = new PartitionBuffer(0, 0);
      fill(buffer, 0, [null, null, null]);
      const [m0, m1] = collect(buffer);
      buffer.durable = { from: 0, to: 3, head: 1, rest: 1 };
      handOut(buffer, m0);
      handOut(buffer, m1);
      buffer.settle(m0);
      assert.deepEqual(buffer.markerToWrite(), { from: 1, to: 3, head: 1, rest: 1 });
      buffer.settle(m1);
      buffer.durable = buffer.markerToWrite();
      const [m2] = collect(buffer);
      buffer.settle(m2);
      assert.equal(buffer.markerToWrite(), null, 'all settled: nothing to count');
    });

    it('starts receive counts from an earlier owner\'s marker, for fetched and not yet fetched offsets', function () {
      const prior = { from: 5, to: 9, head: 2, rest: 1 };
      const buffer = new PartitionBuffer(0, 5, prior, 3);
      fill(buffer, 5, [null, null]);
      const [m5, m6] = collect(buffer);
      assert.deepEqual([m5.receives, m6.receives], [2, 1]);
      assert.ok(markerCovers(buffer.durable, 6, 1) && !buffer.covers(m5), 'a receive beyond the earlier owners\' needs a new marker');
      buffer.requestMarker(m5);
      assert.deepEqual(buffer.markerToWrite(), { from: 5, to: 9, head: 3, rest: 2 }, 'both fetched ones armed for one more receive; offsets 7-8, not fetched yet, still counted (to 9)');
    });

    it('hands out a range that failed narrowAfter times one message at a time, until the commit position leaves it', function () {
      const buffer = new PartitionBuffer(0, 5, { from: 5, to: 8, head: 2, rest: 2 }, 2);
      fill(buffer, 5, [null, null, null, null, null]);
      assert.ok(buffer.narrowed);
      assert.deepEqual(offsets(collect(buffer)), [5], 'only the first unsettled message');
      const [m5] = collect(buffer);
      handOut(buffer, m5);
      assert.deepEqual(offsets(collect(buffer)), [], 'nothing else while it is in flight');
      buffer.settle(m5);
      assert.deepEqual(offsets(collect(buffer)), [6]);
      for (const entry of collect(buffer)) buffer.settle(entry);
      for (const entry of collect(buffer)) buffer.settle(entry);
      assert.equal(buffer.narrowed, false, 'past offset 8');
      assert.deepEqual(offsets(collect(buffer)), [8, 9]);
      const below = new PartitionBuffer(0, 5, { from: 5, to: 8, head: 1, rest: 1 }, 2);
      fill(below, 5, [null, null]);
      assert.deepEqual(offsets(collect(below)), [5, 6], 'one failure: not narrowed');
    });
  });
});
