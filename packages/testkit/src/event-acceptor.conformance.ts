import assert from 'node:assert/strict';
import { JsonText, type NewEvent } from '@triggers/core/domain';
import { eventIdsOf, eventTraceparentOf, type EventAcceptor, type EventMessage, type EventStore, type IdempotencyStore, type Queue } from '@triggers/core/ports';
import { uniqueId, uuidv7At } from './helpers.ts';

/** The engines behind one acceptor, for the suite to look at what it wrote. */
export interface EventAcceptorFixture {
  eventStore: EventStore;
  queue: Queue;
  idempotencyStore: IdempotencyStore;
  /** A new acceptor on these engines (the suite closes it). */
  newAcceptor(): EventAcceptor;
  /** Closes the engines (after the acceptors). */
  close(): Promise<void>;
}

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const IDEMPOTENCY = { leaseMs: 60_000, ttlMs: 86_400_000 };

function newEvent(customerId: string): NewEvent {
  const timestamp = Date.now();
  return { eventId: uuidv7At(timestamp), customerId, payload: JsonText.of({ event_type: 'order.created', n: Math.random() }), eventType: 'order.created', timestamp };
}

/**
 * The EventAcceptor contract (ports/event-acceptor.ts) — the code behind "202 means durably
 * stored" — on one acceptor implementation over real engines. Each test uses a customer of its
 * own, so the engines may be shared with other suites.
 */
export function eventAcceptorConformance(makeFixture: () => Promise<EventAcceptorFixture>): void {
  describe('EventAcceptor conformance', function () {
    let fixture: EventAcceptorFixture;
    let acceptor: EventAcceptor;
    /** `events` messages of other customers the suite received on the way; acked, they are no one's. */
    const seen = new Map<string, EventMessage[]>();

    before(async function () {
      fixture = await makeFixture();
      acceptor = fixture.newAcceptor();
    });
    after(async function () {
      await acceptor?.close();
      await fixture?.close();
    });

    /** Every `events` message of the customer the queue holds now (received and acked). */
    async function takeMessages(customerId: string): Promise<EventMessage[]> {
      for (;;) {
        const batch = await fixture.queue.receive<EventMessage>('events', { maxMessages: 100, visibilityTimeoutMs: 60_000, waitTimeMs: 0 });
        if (batch.length === 0) break;
        for (const message of batch) {
          // A message may stand for several events (EventMessage.eventIds): one entry per event.
          const { eventIds: _ids, traceparents: _contexts, traceparent: _context, ...one } = message.body;
          const perEvent = eventIdsOf(message.body).map((eventId, i) => {
            const traceparent = eventTraceparentOf(message.body, i);
            return traceparent === undefined ? { ...one, eventId } : { ...one, eventId, traceparent };
          });
          seen.set(message.body.customerId, [...(seen.get(message.body.customerId) ?? []), ...perEvent]);
          await fixture.queue.ack('events', message.receipt);
        }
      }
      const mine = seen.get(customerId) ?? [];
      seen.delete(customerId);
      return mine;
    }

    async function assertNothingOf(customerId: string, events: NewEvent[]): Promise<void> {
      for (const event of events) assert.equal(await fixture.eventStore.getEvent(customerId, event.eventId), null, `${event.eventId} is not stored`);
      assert.deepEqual(await takeMessages(customerId), [], 'nothing enqueued');
    }

    it('stores every event as pending with no attempts, and enqueues one events message per event with the trace context', async function () {
      const customerId = uniqueId();
      const events = [newEvent(customerId), newEvent(customerId), newEvent(customerId)];
      await acceptor.accept({ events, traceparent: TRACEPARENT });

      for (const event of events) {
        const stored = await fixture.eventStore.getEvent(customerId, event.eventId);
        assert.equal(stored?.status, 'pending');
        assert.equal(stored?.deliveryAttempts, 0);
        assert.deepEqual(stored?.payload, event.payload);
      }
      const messages = await takeMessages(customerId);
      assert.deepEqual(
        [...messages].sort((a, b) => a.eventId.localeCompare(b.eventId)),
        events.map((e) => ({ eventId: e.eventId, customerId, traceparent: TRACEPARENT })).sort((a, b) => a.eventId.localeCompare(b.eventId)),
      );
    });

    it('completes the idempotency key with the response', async function () {
      const customerId = uniqueId();
      assert.equal((await fixture.idempotencyStore.claim(customerId, 'order-42', 'hash-1', IDEMPOTENCY)).state, 'acquired');
      const event = newEvent(customerId);
      const response = { status: 202, body: { event_id: event.eventId, status: 'accepted' } };
      await acceptor.accept({ events: [event], idempotency: { customerId, key: 'order-42', response, ttlMs: IDEMPOTENCY.ttlMs } });

      assert.deepEqual(await fixture.idempotencyStore.claim(customerId, 'order-42', 'hash-1', IDEMPOTENCY), { state: 'completed', response });
      assert.equal((await takeMessages(customerId)).length, 1);
    });

    it('resolves every one of many concurrent calls with each event stored and enqueued once', async function () {
      const customerId = uniqueId();
      const calls = Array.from({ length: 60 }, (_, i) => ({ events: Array.from({ length: 1 + (i % 3) }, () => newEvent(customerId)) }));
      await Promise.all(calls.map((call) => acceptor.accept(call)));

      const ids = calls.flatMap((c) => c.events.map((e) => e.eventId)).sort();
      for (const id of ids) assert.equal((await fixture.eventStore.getEvent(customerId, id))?.status, 'pending', id);
      assert.deepEqual((await takeMessages(customerId)).map((m) => m.eventId).sort(), ids);
    });

    it('on a store failure rejects with a DependencyError and stores, enqueues and completes nothing of the call', async function () {
      const customerId = uniqueId();
      const existing = newEvent(customerId);
      await acceptor.accept({ events: [existing] });
      await takeMessages(customerId);
      await fixture.idempotencyStore.claim(customerId, 'order-7', 'hash', IDEMPOTENCY);

      // An event id that is already stored: the store refuses the whole write.
      const fresh = [newEvent(customerId), newEvent(customerId)];
      await assert.rejects(
        acceptor.accept({
          events: [...fresh, { ...existing }],
          idempotency: { customerId, key: 'order-7', response: { status: 202, body: {} }, ttlMs: IDEMPOTENCY.ttlMs },
        }),
        { name: 'DependencyError' },
      );
      await assertNothingOf(customerId, fresh);
      assert.equal((await fixture.idempotencyStore.claim(customerId, 'order-7', 'hash', IDEMPOTENCY)).state, 'in_progress', 'the key was not completed');

      const later = newEvent(customerId);
      await acceptor.accept({ events: [later] });
      assert.ok(await fixture.eventStore.getEvent(customerId, later.eventId), 'the acceptor keeps working after a failed call');
    });

    it('settles the calls made before close, then refuses calls with a DependencyError and stores nothing of them', async function () {
      const closing = fixture.newAcceptor();
      const customerId = uniqueId();
      const before = newEvent(customerId);
      const accepted = closing.accept({ events: [before] });
      await closing.close();
      await accepted;
      assert.equal((await fixture.eventStore.getEvent(customerId, before.eventId))?.status, 'pending');

      const after = newEvent(customerId);
      await assert.rejects(closing.accept({ events: [after] }), { name: 'DependencyError' });
      assert.equal(await fixture.eventStore.getEvent(customerId, after.eventId), null);
      assert.deepEqual((await takeMessages(customerId)).map((m) => m.eventId), [before.eventId]);
    });
  });
}
