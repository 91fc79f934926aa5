import assert from 'node:assert/strict';
import { assess, scheduleBoundMs, type DeliveryRules, type VerdictInput } from './verdict.ts';
import type { Receipt, ReceiverKind } from './receivers.ts';
import { eventIdsOf, unarrived } from './receivers.ts';

/** The chaos drill's verdict (bench/chaos/verdict.ts) on hand-made observations: what counts as lost, duplicated, late, or failed outside the rules. */

const RULES: DeliveryRules = { maxAttempts: 3, retryBaseMs: 1000, retryMaxDelayMs: 1500, webhookTimeoutMs: 2000, visibilityTimeoutMs: 10_000, breakerResetMs: 30_000 };
const T0 = 1_000_000;

function receipt(receiver: ReceiverKind, webhookId: string, eventId: string, at: number, status = 200): Receipt {
  return { receiver, webhookId, eventIds: [eventId], at, status };
}

function input(overrides: Partial<VerdictInput>): VerdictInput {
  return { acked: [], receiverOf: () => 'steady', receipts: [], statuses: new Map(), failedAttempts: new Map(), faults: [], rules: RULES, ...overrides };
}

describe('chaos drill verdict', () => {
  it('the retry schedule bound is every backoff at +20 % jitter (capped) plus every attempt taking the whole timeout', () => {
    // 3 × 2000 + (1000 + min(2000, 1500)) × 1.2
    assert.equal(scheduleBoundMs(RULES), 6000 + 3000);
  });

  it('an acknowledged event delivered once is neither lost nor duplicated, and its latency is 202 → first 2xx', () => {
    const v = assess(
      input({
        acked: [{ id: 'e1', customer: 0, ackedAt: T0 }],
        receipts: [receipt('steady', 'w1', 'e1', T0 + 250)],
        statuses: new Map([['e1', 'delivered']]),
      }),
    );
    assert.equal(v.lost, 0);
    assert.equal(v.delivered, 1);
    assert.equal(v.duplicateDeliveries, 0);
    assert.deepEqual(v.latencyMs, { p50: 250, p99: 250, max: 250 });
  });

  it('counts as lost: missing from the inbox, still pending, unmatched, and delivered without any 2xx at the receiver', () => {
    const v = assess(
      input({
        acked: ['gone', 'stuck', 'nomatch', 'liar'].map((id) => ({ id, customer: 0, ackedAt: T0 })),
        receipts: [receipt('steady', 'w-liar', 'liar', T0 + 10, 500)],
        statuses: new Map([
          ['stuck', 'pending'],
          ['nomatch', 'unmatched'],
          ['liar', 'delivered'],
          ['not-acked', 'delivered'],
        ]),
      }),
    );
    assert.equal(v.lost, 4);
    assert.deepEqual(v.lostByReason, { 'not in the inbox': 1, 'still pending': 1, unmatched: 1, 'delivered without a 2xx at the receiver': 1 });
    assert.equal(v.storedNotAcked, 1);
  });

  it('a webhook-id answered 2xx twice is one duplicate; a retry after a 500 is not', () => {
    const v = assess(
      input({
        acked: [
          { id: 'e1', customer: 0, ackedAt: T0 },
          { id: 'e2', customer: 0, ackedAt: T0 },
        ],
        receipts: [receipt('steady', 'w1', 'e1', T0 + 10), receipt('steady', 'w1', 'e1', T0 + 20), receipt('steady', 'w2', 'e2', T0 + 10, 500), receipt('steady', 'w2', 'e2', T0 + 600)],
        statuses: new Map([
          ['e1', 'delivered'],
          ['e2', 'delivered'],
        ]),
      }),
    );
    assert.equal(v.duplicateDeliveries, 1);
    assert.equal(v.deliveredWebhookIds, 2);
    assert.equal(v.duplicateRate, 0.5);
  });

  it('a failed event is within the rules after maxAttempts failed attempts, outside them after fewer or after a 2xx the deliverer could have read (not one it timed out on)', () => {
    const failedAfter = (n: number) => Array.from({ length: n }, (_, i) => ({ attempt: i + 1, status: 'failed', status_code: 500 }));
    const v = assess(
      input({
        acked: ['ok', 'short', 'answered', 'cut', 'timed-out'].map((id) => ({ id, customer: 0, ackedAt: T0 })),
        receiverOf: () => 'flaky',
        receipts: [receipt('flaky', 'w-answered', 'answered', T0 + 100), receipt('flaky', 'w-cut', 'cut', T0 + 5000), receipt('flaky', 'w-timed-out', 'timed-out', T0 + 100)],
        statuses: new Map(['ok', 'short', 'answered', 'cut', 'timed-out'].map((id) => [id, 'failed'])),
        failedAttempts: new Map([
          ['ok', failedAfter(3)],
          ['short', failedAfter(2)],
          ['answered', failedAfter(3)],
          ['cut', failedAfter(3)],
          // The deliverer gave up waiting for the answer the receiver sent: no status recorded.
          ['timed-out', [{ attempt: 1, status: 'failed', status_code: null }, ...failedAfter(3).slice(1)]],
        ]),
        faults: [{ kind: 'network-cut', target: 'flaky receiver', startedAt: T0 + 4800, backAt: T0 + 9000 }],
      }),
    );
    assert.equal(v.failed, 5);
    assert.equal(v.lost, 0);
    assert.equal(v.failedOutsideRules, 2);
    assert.deepEqual(v.failedOutsideRulesSample, ['short (2 of 3 attempts)', 'answered (its flaky receiver answered 2xx)']);
  });

  it('a delivery is late past the schedule plus the allowance of the faults during its life', () => {
    const bound = scheduleBoundMs(RULES);
    const recovery = RULES.visibilityTimeoutMs + RULES.webhookTimeoutMs + 5000;
    const v = assess(
      input({
        acked: [
          { id: 'on-time', customer: 0, ackedAt: T0 },
          { id: 'late', customer: 0, ackedAt: T0 },
          { id: 'excused', customer: 0, ackedAt: T0 + 100_000 },
        ],
        receipts: [
          receipt('steady', 'w1', 'on-time', T0 + bound),
          receipt('steady', 'w2', 'late', T0 + bound + 1),
          receipt('steady', 'w3', 'excused', T0 + 100_000 + bound + 3000 + recovery),
        ],
        statuses: new Map(['on-time', 'late', 'excused'].map((id) => [id, 'delivered'])),
        faults: [{ kind: 'kill', target: 'deliverer', startedAt: T0 + 101_000, backAt: T0 + 104_000 }],
      }),
    );
    assert.equal(v.late, 1);
    assert.match(v.lateSample[0], /^late /);
  });

  it('reads every event id of a webhook body, batches included', () => {
    const body = JSON.stringify([
      { event_id: 'a', customer_id: 'c', payload: { event_id: 'not-top-level' }, timestamp: 't' },
      { event_id: 'b', customer_id: 'c', payload: {}, timestamp: 't' },
    ]);
    assert.deepEqual(eventIdsOf(body), ['a', 'b']);
    assert.deepEqual(eventIdsOf('not json'), []);
  });

  it("the warm-up counts an event once its webhook arrived, whatever was answered (an event failed by the rules on the flaky receiver has arrived)", () => {
    const ids = new Set(['e1', 'e2', 'e3']);
    const receipts = [receipt('flaky', 'w1', 'e1', T0, 500), receipt('steady', 'w2', 'e2', T0), receipt('steady', 'w9', 'other', T0)];
    assert.deepEqual(unarrived(receipts, ids), ['e3']);
    assert.deepEqual(unarrived([...receipts, receipt('slow', 'w3', 'e3', T0)], ids), []);
  });
});
