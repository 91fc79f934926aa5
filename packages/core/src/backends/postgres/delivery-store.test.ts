import assert from 'node:assert/strict';
import { deliveryStoreConformance, requireEngine, uniqueId, uuidv7At } from '@triggers/testkit';
import type { NewEvent } from '../../domain/events.ts';
import { JsonText } from '../../domain/json/json-text.ts';
import { createPostgresDeliveryStore } from './delivery-store.ts';
import { createPostgresEventStore } from './event-store.ts';
import { POSTGRES_TEST_ENGINE, temporarySchemas } from './testing.ts';

describe('PostgreSQL delivery store', function () {
  const postgres = requireEngine(POSTGRES_TEST_ENGINE);
  const schemas = temporarySchemas(() => postgres.address, 'deliveries');
  after(() => schemas.dropAll());

  deliveryStoreConformance(async () => {
    const db = await schemas.open();
    return { deliveryStore: createPostgresDeliveryStore(db), eventStore: createPostgresEventStore(db), close: async () => undefined };
  });

  describe('under concurrency', function () {
    it('settles an event failed when its last deliveries fail at the same moment on different connections', async function () {
      const db = await schemas.open(undefined, 20);
      const deliveries = createPostgresDeliveryStore(db);
      const events = createPostgresEventStore(db);
      const rounds = await Promise.all(
        Array.from({ length: 15 }, async () => {
          const customerId = uniqueId();
          const event: NewEvent = { eventId: uuidv7At(Date.now()), customerId, payload: JsonText.of({ n: 1 }), eventType: null, timestamp: Date.now() };
          await events.insertEvents([event]);
          const created = await deliveries.createDeliveries(
            Array.from({ length: 3 }, () => ({ deliveryId: `msg_${uniqueId()}`, eventId: event.eventId, customerId, workflowId: uniqueId(), createdAt: Date.now() })),
          );
          const outcomes = await Promise.all(created.map((d) => deliveries.finishDelivery(d.deliveryId, { status: 'failed', reason: 'HTTP 500', now: Date.now() })));
          return { event, outcomes };
        }),
      );
      for (const { event, outcomes } of rounds) {
        assert.equal((await events.getEvent(event.customerId, event.eventId))?.status, 'failed', 'every delivery failed, so the event did');
        assert.equal(outcomes.filter((o) => o?.eventStatus === 'failed').length, 1, 'exactly the last finisher saw it settle');
      }
    });

    it('lets exactly one of many concurrent claims make attempt N', async function () {
      const db = await schemas.open(undefined, 20);
      const deliveries = createPostgresDeliveryStore(db);
      const events = createPostgresEventStore(db);
      const customerId = uniqueId();
      const event: NewEvent = { eventId: uuidv7At(Date.now()), customerId, payload: JsonText.of({}), eventType: null, timestamp: Date.now() };
      await events.insertEvents([event]);
      const [d] = await deliveries.createDeliveries([{ deliveryId: `msg_${uniqueId()}`, eventId: event.eventId, customerId, workflowId: uniqueId(), createdAt: Date.now() }]);
      const claims = await Promise.all(Array.from({ length: 20 }, () => deliveries.incrementAttempts(d.deliveryId, 0, Date.now(), Date.now() + 30_000)));
      assert.equal(claims.filter(Boolean).length, 1);
      assert.equal((await deliveries.getDelivery(d.deliveryId))?.attemptsMade, 1);
    });
  });
});
