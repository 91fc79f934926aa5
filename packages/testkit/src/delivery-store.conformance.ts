import assert from 'node:assert/strict';
import { JsonText, type NewEvent } from '@triggers/core/domain';
import type { EventStore, DeliveryStore, NewDelivery } from '@triggers/core/ports';
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
  });
}
