import assert from 'node:assert/strict';
import { DELAY_TIERS, decodeMessage, encodeHeaders, leavesTierAt, parseBody, tierFor, topicNames, type Envelope } from './topology.ts';

describe('Kafka topology', function () {
  it('names the topics and the consumer group of a queue topic after the prefix', function () {
    assert.deepEqual(topicNames('triggers', 'deliveries'), {
      main: 'triggers-deliveries',
      deadLetter: 'triggers-deliveries-dlq',
      delay: ['1s', '10s', '1m', '10m', '1h'].map((t) => `triggers-deliveries-delay-${t}`),
      group: 'triggers-deliveries-consumers',
    });
  });

  describe('delay tiers', function () {
    it('puts a delay in the largest tier not longer than it, and short delays in the shortest', function () {
      const cases: [number, string][] = [
        [1, '1s'],
        [999, '1s'],
        [1000, '1s'],
        [9_999, '1s'],
        [10_000, '10s'],
        [59_999, '10s'],
        [60_000, '1m'],
        [600_000, '10m'],
        [3_599_999, '10m'],
        [3_600_000, '1h'],
        [7 * 86_400_000, '1h'],
      ];
      for (const [delay, tier] of cases) assert.equal(tierFor(delay).name, tier, `${delay} ms`);
    });

    it('lets a message leave its tier at its due time or after one tier step, whichever comes first', function () {
      const tenSeconds = DELAY_TIERS[1];
      assert.equal(leavesTierAt(tenSeconds, 1000, 5000), 5000);
      assert.equal(leavesTierAt(tenSeconds, 1000, 60_000), 11_000);
    });

    it('keeps the messages of one tier in due order when each waits one tier step (no head-of-line blocking)', function () {
      const tier = tierFor(30_000);
      const appended = [0, 10, 20, 30];
      const dueAts = [45_000, 30_010, 59_000, 30_030]; // each at least one step (10 s) away when appended
      const leaves = appended.map((at, i) => leavesTierAt(tier, at, dueAts[i]));
      assert.deepEqual(leaves, [...leaves].sort((a, b) => a - b));
    });
  });

  describe('headers', function () {
    it('carries id, enqueue time, receive count, due time and dead-letter time through a round trip', function () {
      const envelope: Envelope = { id: 'id-1', key: 'customer-1', value: '{"a":1}', enqueuedAt: 1700000000000, receives: 2, dueAt: 1700000005000, deadLetteredAt: 1700000009000 };
      const headers = encodeHeaders(envelope);
      const decoded = decodeMessage(
        { key: Buffer.from('customer-1'), value: Buffer.from('{"a":1}'), timestamp: '1', attributes: 0, offset: '7', headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(String(v))])) },
        't',
        0,
      );
      assert.deepEqual(decoded, envelope);
    });

    it('reads a message from a foreign producer: its position as id, its timestamp as enqueue time', function () {
      const decoded = decodeMessage({ key: null, value: Buffer.from('plain text'), timestamp: '1234', attributes: 0, offset: '9', headers: {} }, 'topic', 2);
      assert.deepEqual(decoded, { id: 'topic/2/9', key: null, value: 'plain text', enqueuedAt: 1234, receives: 0 });
      assert.equal(parseBody(decoded.value), 'plain text');
      assert.deepEqual(parseBody('{"x":[1]}'), { x: [1] });
    });
  });
});
