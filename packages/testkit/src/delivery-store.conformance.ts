import assert from 'node:assert/strict';
import { JsonText, type DeliveryAttempt, type NewEvent } from '@triggers/core/domain';
import type { AttemptOutcome, EventStore, DeliveryRecord, DeliveryStore, NewDelivery } from '@triggers/core/ports';
import { uniqueId, uuidv7At } from './helpers.ts';

export interface DeliveryStoreFixture {
  deliveryStore: DeliveryStore;
  /** The event store whose events the deliveries settle. */
  eventStore: EventStore;
  close(): Promise<void>;
}

async function storedEvent(eventStore: EventStore, timestamp = Date.now()): Promise<NewEvent> {
  const customerId = uniqueId();
  const event: NewEvent = { eventId: uuidv7At(timestamp), customerId, payload: JsonText.of({ event_type: 'x' }), eventType: 'x', timestamp };
  await eventStore.insertEvents([event]);
  return event;
}

function deliveriesFor(event: NewEvent, count: number): NewDelivery[] {
  return Array.from({ length: count }, () => ({
    deliveryId: `msg_${uniqueId().replaceAll('-', '')}`,
    eventId: event.eventId,
    customerId: event.customerId,
    workflowId: uniqueId(),
    createdAt: Date.now(),
  }));
}

function attemptOf(d: DeliveryRecord, overrides: Partial<DeliveryAttempt> = {}): DeliveryAttempt {
  return {
    eventId: d.eventId,
    customerId: d.customerId,
    workflowId: d.workflowId,
    deliveryId: d.deliveryId,
    attempt: 1,
    status: 'retrying',
    statusCode: 503,
    error: 'HTTP 503',
    durationMs: 42,
    timestamp: Date.now(),
    responseBody: 'busy',
    ...overrides,
  };
}

/** Claims the next attempt of `d` (as the deliverer does before sending), and returns the attempt number. */
async function claim(store: DeliveryStore, d: DeliveryRecord): Promise<number> {
  const current = (await store.getDelivery(d.deliveryId))!;
  assert.equal(await store.incrementAttempts(d.deliveryId, current.attemptsMade, Date.now(), Date.now() + 35_000), true);
  return current.attemptsMade + 1;
}

/** The DeliveryStore contract (ports/delivery-store.ts). */
export function deliveryStoreConformance(makeFixture: () => Promise<DeliveryStoreFixture>): void {
  describe('DeliveryStore conformance', function () {
    let fixture: DeliveryStoreFixture;
    let store: DeliveryStore;
    let events: EventStore;

    before(async function () {
      fixture = await makeFixture();
      store = fixture.deliveryStore;
      events = fixture.eventStore;
    });
    after(async function () {
      await fixture?.close();
    });

    it('creates pending deliveries due now, and reads them back', async function () {
      const event = await storedEvent(events);
      const before = Date.now();
      const [created] = await store.createDeliveries(deliveriesFor(event, 1));
      assert.equal(created.status, 'pending');
      assert.equal(created.attemptsMade, 0);
      assert.ok(created.nextAttemptAt <= Date.now() && created.nextAttemptAt >= before - 1000);
      assert.deepEqual(await store.getDelivery(created.deliveryId), created);
      assert.equal(await store.getDelivery('msg_unknown'), null);
      assert.equal(created.replayId, null, 'a live delivery belongs to no replay');
    });

    it('keeps the replay that made a delivery, on every read (the sweeper and the FIFO release count its outcome by it)', async function () {
      const old = Date.now() - 10 * 60_000;
      const event = await storedEvent(events, old);
      const replayId = uniqueId();
      const [created] = await store.createDeliveries(deliveriesFor(event, 1).map((d) => ({ ...d, createdAt: old, replayId })));
      assert.equal(created.replayId, replayId);
      assert.equal((await store.getDelivery(created.deliveryId))?.replayId, replayId);
      assert.equal((await store.listDeliveries(event.customerId, event.eventId))[0].replayId, replayId);
      assert.equal((await store.pendingInOrder(created.workflowId, 1))[0].replayId, replayId);
      const overdue = await store.listOverdue(Date.now(), 60_000, 10_000);
      assert.equal(overdue.deliveries.find((d) => d.deliveryId === created.deliveryId)?.replayId, replayId);
    });

    it('is idempotent: creating the same delivery again leaves the first as it is', async function () {
      const event = await storedEvent(events);
      const input = deliveriesFor(event, 2);
      await store.createDeliveries(input);
      assert.equal(await store.incrementAttempts(input[0].deliveryId, 0, Date.now()), true);
      const again = await store.createDeliveries(input);
      assert.equal(again.length, 2);
      assert.equal(again.find((d) => d.deliveryId === input[0].deliveryId)?.attemptsMade, 1);
      assert.equal((await store.listDeliveries(event.customerId, event.eventId)).length, 2);
    });

    it('lists an event\'s deliveries only for its own customer', async function () {
      const event = await storedEvent(events);
      await store.createDeliveries(deliveriesFor(event, 3));
      assert.equal((await store.listDeliveries(event.customerId, event.eventId)).length, 3);
      assert.equal((await store.listDeliveries(uniqueId(), event.eventId)).length, 0);
    });

    it('claims attempts with compare-and-set', async function () {
      const event = await storedEvent(events);
      const [d] = await store.createDeliveries(deliveriesFor(event, 1));
      const claims = await Promise.all([store.incrementAttempts(d.deliveryId, 0, Date.now()), store.incrementAttempts(d.deliveryId, 0, Date.now())]);
      assert.deepEqual(claims.sort(), [false, true]);
      assert.equal((await store.getDelivery(d.deliveryId))?.attemptsMade, 1);
    });

    it('a claim with claimUntil moves nextAttemptAt in the same write (the claim\'s lease); a lost claim moves nothing', async function () {
      const event = await storedEvent(events);
      const [d] = await store.createDeliveries(deliveriesFor(event, 1));
      const until = Date.now() + 35_000;
      assert.equal(await store.incrementAttempts(d.deliveryId, 0, Date.now(), until), true);
      const claimed = await store.getDelivery(d.deliveryId);
      assert.equal(claimed?.attemptsMade, 1);
      assert.equal(claimed?.nextAttemptAt, until);
      assert.equal(await store.incrementAttempts(d.deliveryId, 0, Date.now(), until + 1000), false);
      assert.equal((await store.getDelivery(d.deliveryId))?.nextAttemptAt, until);
      assert.equal(await store.incrementAttempts(d.deliveryId, 1, Date.now()), true);
      assert.equal((await store.getDelivery(d.deliveryId))?.nextAttemptAt, until, 'without claimUntil nextAttemptAt is left alone');
    });

    it('schedules the next attempt', async function () {
      const event = await storedEvent(events);
      const [d] = await store.createDeliveries(deliveriesFor(event, 1));
      const at = Date.now() + 60_000;
      await store.scheduleNextAttempt(d.deliveryId, at);
      assert.equal((await store.getDelivery(d.deliveryId))?.nextAttemptAt, at);
    });

    it('lists a subscription\'s pending deliveries in event order (UUIDv7), whatever order they were created in; finished ones drop out', async function () {
      const workflowId = uniqueId();
      const otherWorkflowId = uniqueId();
      const base = Date.now() - 10_000;
      const stored = [];
      for (let i = 0; i < 4; i++) stored.push(await storedEvent(events, base + i * 10));
      const ofSubscription = (event: NewEvent, wf: string): NewDelivery => ({
        deliveryId: `msg_${uniqueId().replaceAll('-', '')}`,
        eventId: event.eventId,
        customerId: event.customerId,
        workflowId: wf,
        createdAt: Date.now(),
      });
      // Created newest event first, one at a time, with another subscription's deliveries between.
      const mine: NewDelivery[] = [];
      for (const event of [...stored].reverse()) {
        const d = ofSubscription(event, workflowId);
        mine.unshift(d);
        await store.createDeliveries([d, ofSubscription(event, otherWorkflowId)]);
      }
      const ids = (list: DeliveryRecord[]) => list.map((d) => d.deliveryId);
      assert.deepEqual(ids(await store.pendingInOrder(workflowId, 10)), mine.map((d) => d.deliveryId));
      assert.deepEqual(ids(await store.pendingInOrder(workflowId, 2)), mine.slice(0, 2).map((d) => d.deliveryId), 'at most limit');
      await store.finishDelivery(mine[0].deliveryId, { status: 'succeeded', now: Date.now() });
      await store.finishDelivery(mine[2].deliveryId, { status: 'failed', reason: 'HTTP 404', now: Date.now() });
      const head = await store.pendingInOrder(workflowId, 10);
      assert.deepEqual(ids(head), [mine[1].deliveryId, mine[3].deliveryId], 'finished deliveries are not listed, at once');
      assert.equal(head[0].status, 'pending');
      assert.equal((await store.pendingInOrder(otherWorkflowId, 10)).length, 4);
      assert.deepEqual(await store.pendingInOrder(uniqueId(), 10), []);
    });

    it('settles delivered as soon as one delivery succeeded', async function () {
      const event = await storedEvent(events);
      const [a, b] = await store.createDeliveries(deliveriesFor(event, 2));
      assert.deepEqual(await store.finishDelivery(a.deliveryId, { status: 'succeeded', now: Date.now() }), { eventStatus: 'delivered' });
      assert.equal((await events.getEvent(event.customerId, event.eventId))?.status, 'delivered');
      assert.deepEqual(await store.finishDelivery(b.deliveryId, { status: 'failed', reason: 'HTTP 404', now: Date.now() }), { eventStatus: 'delivered' });
      const failed = await store.getDelivery(b.deliveryId);
      assert.equal(failed?.status, 'failed');
      assert.equal(failed?.failureReason, 'HTTP 404');
    });

    it('settles failed only when every delivery ended without success', async function () {
      const event = await storedEvent(events);
      const [a, b] = await store.createDeliveries(deliveriesFor(event, 2));
      assert.deepEqual(await store.finishDelivery(a.deliveryId, { status: 'failed', now: Date.now() }), { eventStatus: 'pending' });
      assert.equal((await events.getEvent(event.customerId, event.eventId))?.status, 'pending');
      assert.deepEqual(await store.finishDelivery(b.deliveryId, { status: 'failed', now: Date.now() }), { eventStatus: 'failed' });
      assert.equal((await events.getEvent(event.customerId, event.eventId))?.status, 'failed');
    });

    it('changes nothing when a finished delivery is finished again', async function () {
      const event = await storedEvent(events);
      const [a] = await store.createDeliveries(deliveriesFor(event, 1));
      await store.finishDelivery(a.deliveryId, { status: 'failed', reason: 'first', now: Date.now() });
      await store.finishDelivery(a.deliveryId, { status: 'succeeded', now: Date.now() });
      const after = await store.getDelivery(a.deliveryId);
      assert.equal(after?.status, 'failed');
      assert.equal(after?.failureReason, 'first');
      assert.equal((await events.getEvent(event.customerId, event.eventId))?.status, 'failed');
      assert.equal(await store.finishDelivery('msg_unknown', { status: 'failed', now: Date.now() }), null);
    });

    it('lists overdue pending deliveries and pending events without deliveries for the sweeper', async function () {
      const now = Date.now();
      const old = now - 10 * 60_000;
      const stranded = await storedEvent(events, old);
      const withOverdue = await storedEvent(events, old);
      const [overdue] = await store.createDeliveries(deliveriesFor(withOverdue, 1).map((d) => ({ ...d, createdAt: old })));
      await store.scheduleNextAttempt(overdue.deliveryId, old);
      const withFuture = await storedEvent(events, old);
      const [future] = await store.createDeliveries(deliveriesFor(withFuture, 1));
      await store.scheduleNextAttempt(future.deliveryId, now + 3600_000);
      const fresh = await storedEvent(events, now);

      const found = await store.listOverdue(now, 60_000, 10_000);
      const deliveryIds = found.deliveries.map((d) => d.deliveryId);
      const eventIds = found.eventsWithoutDeliveries.map((e) => e.eventId);
      assert.ok(eventIds.includes(stranded.eventId), 'a stranded event is found');
      assert.ok(!eventIds.includes(fresh.eventId), 'a fresh event is not');
      assert.ok(!eventIds.includes(withOverdue.eventId), 'an event with deliveries is not listed as stranded');
      assert.ok(deliveryIds.includes(overdue.deliveryId), 'an overdue delivery is found');
      assert.ok(!deliveryIds.includes(future.deliveryId), 'a delivery due later is not');

      await store.finishDelivery(overdue.deliveryId, { status: 'succeeded', now });
      const again = await store.listOverdue(now, 60_000, 10_000);
      assert.ok(!again.deliveries.some((d) => d.deliveryId === overdue.deliveryId), 'a finished delivery is not overdue');
    });

    describe('recordAttempts: one call per attempt outcome', function () {
      it('a success appends the attempt, counts it on the event, finishes the delivery and settles the event, together', async function () {
        const event = await storedEvent(events);
        const [d] = await store.createDeliveries(deliveriesFor(event, 1));
        const n = await claim(store, d);
        const t = Date.now();
        const attempt = attemptOf(d, { attempt: n, status: 'succeeded', statusCode: 200, error: null, responseBody: null, timestamp: t });
        assert.deepEqual(await store.recordAttempts([{ deliveryId: d.deliveryId, attempt, next: { status: 'succeeded' }, now: t }]), [{ eventStatus: 'delivered' }]);
        assert.equal((await store.getDelivery(d.deliveryId))?.status, 'succeeded');
        const stored = await events.getEvent(event.customerId, event.eventId);
        assert.equal(stored?.status, 'delivered');
        assert.equal(stored?.deliveryAttempts, 1);
        assert.equal(stored?.lastDeliveryTimestamp, t);
        assert.deepEqual(await events.listAttempts(event.customerId, event.eventId), [attempt]);
      });

      it('a retry moves the next attempt and leaves the event pending; the final failure settles it failed with the reason', async function () {
        const event = await storedEvent(events);
        const [d] = await store.createDeliveries(deliveriesFor(event, 1));
        const t = Date.now();
        const first = attemptOf(d, { attempt: await claim(store, d), timestamp: t });
        const due = t + 60_000;
        assert.deepEqual(await store.recordAttempts([{ deliveryId: d.deliveryId, attempt: first, next: { status: 'retrying', nextAttemptAt: due }, now: t }]), [{ eventStatus: 'pending' }]);
        const retrying = await store.getDelivery(d.deliveryId);
        assert.equal(retrying?.status, 'pending');
        assert.equal(retrying?.nextAttemptAt, due, 'the claim\'s lease is replaced by the retry\'s due time');
        assert.equal((await events.getEvent(event.customerId, event.eventId))?.status, 'pending');

        const second = attemptOf(d, { attempt: await claim(store, d), status: 'failed', statusCode: 404, error: 'HTTP 404', timestamp: t + 1000 });
        assert.deepEqual(await store.recordAttempts([{ deliveryId: d.deliveryId, attempt: second, next: { status: 'failed', reason: 'HTTP 404' }, now: t + 1000 }]), [{ eventStatus: 'failed' }]);
        const failed = await store.getDelivery(d.deliveryId);
        assert.equal(failed?.status, 'failed');
        assert.equal(failed?.failureReason, 'HTTP 404');
        const stored = await events.getEvent(event.customerId, event.eventId);
        assert.equal(stored?.status, 'failed');
        assert.equal(stored?.deliveryAttempts, 2);
        assert.equal(stored?.lastDeliveryTimestamp, t + 1000);
        assert.deepEqual(await events.listAttempts(event.customerId, event.eventId), [first, second], 'oldest first');
      });

      it('records the outcomes of several deliveries (a batched request) in one call', async function () {
        const a = await storedEvent(events);
        const b = await storedEvent(events);
        const [da] = await store.createDeliveries(deliveriesFor(a, 1));
        const [db] = await store.createDeliveries(deliveriesFor(b, 1));
        const t = Date.now();
        const batchId = `msg_${uniqueId().replaceAll('-', '')}`;
        const outcomes: AttemptOutcome[] = [];
        for (const d of [da, db]) {
          const attempt = attemptOf(d, { deliveryId: batchId, attempt: await claim(store, d), status: 'succeeded', statusCode: 200, error: null, responseBody: null, timestamp: t });
          outcomes.push({ deliveryId: d.deliveryId, attempt, next: { status: 'succeeded' }, now: t });
        }
        assert.deepEqual(await store.recordAttempts(outcomes), [{ eventStatus: 'delivered' }, { eventStatus: 'delivered' }]);
        for (const e of [a, b]) {
          const attempts = await events.listAttempts(e.customerId, e.eventId);
          assert.equal(attempts.length, 1);
          assert.equal(attempts[0].deliveryId, batchId, 'the attempt shows the webhook-id sent');
        }
      });

      it('settles an event with several deliveries only from all of their outcomes', async function () {
        const event = await storedEvent(events);
        const [a, b] = await store.createDeliveries(deliveriesFor(event, 2));
        const t = Date.now();
        const fail = (d: DeliveryRecord, n: number): AttemptOutcome => ({ deliveryId: d.deliveryId, attempt: attemptOf(d, { attempt: n, status: 'failed' }), next: { status: 'failed', reason: 'HTTP 503' }, now: t });
        assert.deepEqual(await store.recordAttempts([fail(a, await claim(store, a))]), [{ eventStatus: 'pending' }]);
        assert.deepEqual(await store.recordAttempts([fail(b, await claim(store, b))]), [{ eventStatus: 'failed' }]);
        assert.equal((await events.getEvent(event.customerId, event.eventId))?.deliveryAttempts, 2);
      });

      it('a late outcome of an earlier attempt does not move a newer claim\'s lease', async function () {
        const event = await storedEvent(events);
        const [d] = await store.createDeliveries(deliveriesFor(event, 1));
        const first = await claim(store, d);
        await claim(store, d); // the first claimer was taken for dead; attempt 2 is under way
        const lease = (await store.getDelivery(d.deliveryId))!.nextAttemptAt;
        const t = Date.now();
        await store.recordAttempts([{ deliveryId: d.deliveryId, attempt: attemptOf(d, { attempt: first }), next: { status: 'retrying', nextAttemptAt: t + 1 }, now: t }]);
        const after = await store.getDelivery(d.deliveryId);
        assert.equal(after?.nextAttemptAt, lease);
        assert.equal(after?.attemptsMade, 2);
        assert.equal((await events.getEvent(event.customerId, event.eventId))?.deliveryAttempts, 1, 'the attempt happened, so it is counted');
      });

      it('an ending outcome of a finished delivery changes nothing but the attempt and its count', async function () {
        const event = await storedEvent(events);
        const [d] = await store.createDeliveries(deliveriesFor(event, 1));
        const n = await claim(store, d);
        await store.finishDelivery(d.deliveryId, { status: 'failed', reason: 'first', now: Date.now() });
        const t = Date.now();
        assert.deepEqual(
          await store.recordAttempts([{ deliveryId: d.deliveryId, attempt: attemptOf(d, { attempt: n, status: 'succeeded' }), next: { status: 'succeeded' }, now: t }]),
          [{ eventStatus: 'failed' }],
        );
        const after = await store.getDelivery(d.deliveryId);
        assert.equal(after?.status, 'failed');
        assert.equal(after?.failureReason, 'first');
        assert.equal((await events.getEvent(event.customerId, event.eventId))?.deliveryAttempts, 1);
      });

      it('answers null for an unknown delivery and stores nothing for it', async function () {
        const event = await storedEvent(events);
        const ghost = { deliveryId: 'msg_unknown', eventId: event.eventId, customerId: event.customerId, workflowId: uniqueId() } as DeliveryRecord;
        assert.deepEqual(await store.recordAttempts([{ deliveryId: ghost.deliveryId, attempt: attemptOf(ghost), next: { status: 'succeeded' }, now: Date.now() }]), [null]);
        assert.deepEqual(await events.listAttempts(event.customerId, event.eventId), []);
        assert.equal((await events.getEvent(event.customerId, event.eventId))?.deliveryAttempts, 0);
      });

      it('counts concurrent outcomes of one event exactly, and settles it once all are in', async function () {
        const event = await storedEvent(events);
        const created = await store.createDeliveries(deliveriesFor(event, 12));
        const claims = await Promise.all(created.map((d) => claim(store, d)));
        const t = Date.now();
        const results = await Promise.all(
          created.map((d, i) => store.recordAttempts([{ deliveryId: d.deliveryId, attempt: attemptOf(d, { attempt: claims[i], status: 'failed' }), next: { status: 'failed', reason: 'HTTP 500' }, now: t }])),
        );
        assert.equal(results.filter(([r]) => r?.eventStatus === 'failed').length >= 1, true, 'the last outcome in sees the event failed');
        const stored = await events.getEvent(event.customerId, event.eventId);
        assert.equal(stored?.deliveryAttempts, 12);
        assert.equal(stored?.status, 'failed');
        assert.equal((await events.listAttempts(event.customerId, event.eventId)).length, 12);
      });
    });

    describe('settleUnmatched', function () {
      it('marks pending events without deliveries unmatched, in one call, and leaves every other event as it is', async function () {
        const lonely = [await storedEvent(events), await storedEvent(events), await storedEvent(events)];
        const matched = await storedEvent(events);
        await store.createDeliveries(deliveriesFor(matched, 1));
        const delivered = await storedEvent(events);
        const [dd] = await store.createDeliveries(deliveriesFor(delivered, 1));
        await store.finishDelivery(dd.deliveryId, { status: 'succeeded', now: Date.now() });
        const all = [...lonely, matched, delivered];
        await store.settleUnmatched(all.map((e) => ({ customerId: e.customerId, eventId: e.eventId })));
        for (const e of lonely) assert.equal((await events.getEvent(e.customerId, e.eventId))?.status, 'unmatched');
        assert.equal((await events.getEvent(matched.customerId, matched.eventId))?.status, 'pending', 'an event with a delivery is not unmatched');
        assert.equal((await events.getEvent(delivered.customerId, delivered.eventId))?.status, 'delivered');
        const stranger = uniqueId();
        const other = await storedEvent(events);
        await store.settleUnmatched([{ customerId: stranger, eventId: other.eventId }]);
        assert.equal((await events.getEvent(other.customerId, other.eventId))?.status, 'pending', 'another customer\'s key reads as absent');
        await store.settleUnmatched([]);
      });
    });
  });
}
