import assert from 'node:assert/strict';
import { PartitionBuffer, type BufferedEntry } from './partition-buffer.ts';
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
});
