import assert from 'node:assert/strict';
import { JsonText, type EventStatus, type JsonObject, type NewEvent } from '@triggers/core/domain';
import type { EventStore, InboxQuery } from '@triggers/core/ports';
import { encodeCursor } from '@triggers/core/testing';
import { assertInvalidRequest, uniqueId, uuidv7At } from './helpers.ts';

export interface EventStoreCapabilities {
  /** The most events `insertEvents` writes atomically in one call (DynamoDB transactions: 100). */
  maxAtomicBatch: number;
}

const HOUR = 3600_000;

function newEvent(customerId: string, options: { timestamp?: number; eventType?: string | null; payload?: JsonObject } = {}): NewEvent {
  const timestamp = options.timestamp ?? Date.now();
  const eventType = options.eventType === undefined ? 'order.created' : options.eventType;
  const payload: JsonObject = options.payload ?? { ...(eventType === null ? {} : { event_type: eventType }), n: Math.random() };
  return { eventId: uuidv7At(timestamp), customerId, payload: JsonText.of(payload), eventType, timestamp };
}

/** `count` events, one millisecond apart, ending `endAgoMs` before now. */
function eventsOverTime(customerId: string, count: number, options: { endAgoMs?: number; eventType?: (i: number) => string | null } = {}): NewEvent[] {
  const end = Date.now() - (options.endAgoMs ?? 0);
  return Array.from({ length: count }, (_, i) => newEvent(customerId, { timestamp: end - (count - i), eventType: options.eventType?.(i) }));
}

function newestFirst(events: NewEvent[]): string[] {
  return events.map((e) => e.eventId).sort().reverse();
}

async function readAll(store: EventStore, customerId: string, query: Omit<InboxQuery, 'cursor'>): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 10_000; page++) {
    const result = await store.listEvents(customerId, { ...query, cursor });
    assert.ok(result.events.length <= query.limit, 'a page never exceeds the limit');
    ids.push(...result.events.map((e) => e.eventId));
    if (result.nextCursor === null) return ids;
    assert.ok(result.events.length > 0, 'a page with a cursor is not empty');
    cursor = result.nextCursor;
  }
  throw new Error('pagination did not end');
}

/**
 * The EventStore contract (ports/event-store.ts). `makeStore` is called once; the store may be
 * shared with other suites: every test writes its own customers.
 */
export function eventStoreConformance(makeStore: () => Promise<EventStore>, capabilities: EventStoreCapabilities): void {
  describe('EventStore conformance', function () {
    let store: EventStore;

    before(async function () {
      store = await makeStore();
    });

    after(async function () {
      await store?.close();
    });

    describe('inserting and reading', function () {
      it('stores a batch as pending with no attempts, and reads every field back', async function () {
        const customerId = uniqueId();
        const typed = newEvent(customerId, { payload: { event_type: 'order.created', amount: 12.5, nested: { list: [1, 'two', null], ok: true } }, eventType: 'order.created' });
        const untyped = newEvent(customerId, { eventType: null, payload: { anything: 'goes' } });
        await store.insertEvents([typed, untyped]);

        for (const event of [typed, untyped]) {
          const stored = await store.getEvent(customerId, event.eventId);
          assert.deepEqual(stored, { ...event, status: 'pending', deliveryAttempts: 0, lastDeliveryTimestamp: null });
        }
      });

      it('treats an empty batch as nothing to do', async function () {
        await store.insertEvents([]);
      });

      it('returns null for an unknown event id', async function () {
        assert.equal(await store.getEvent(uniqueId(), uuidv7At(Date.now())), null);
      });

      it('is atomic: a batch with an existing event id stores none of its events and throws', async function () {
        const customerId = uniqueId();
        const existing = newEvent(customerId);
        await store.insertEvents([existing]);
        const size = Math.min(capabilities.maxAtomicBatch, 25);
        const batch = [...Array.from({ length: size - 1 }, () => newEvent(customerId)), { ...existing, payload: JsonText.of({ changed: true }) }];

        await assert.rejects(store.insertEvents(batch));

        for (const event of batch.slice(0, -1)) assert.equal(await store.getEvent(customerId, event.eventId), null);
        assert.deepEqual((await store.getEvent(customerId, existing.eventId))?.payload, existing.payload, 'the existing event is unchanged');
      });

      it('is atomic: a batch repeating one id inside itself stores nothing and throws', async function () {
        const customerId = uniqueId();
        const first = newEvent(customerId);
        const other = newEvent(customerId);
        await assert.rejects(store.insertEvents([first, other, { ...first }]));
        assert.equal(await store.getEvent(customerId, first.eventId), null);
        assert.equal(await store.getEvent(customerId, other.eventId), null);
      });

      it('stores a batch as large as the atomic limit allows (up to 500)', async function () {
        const customerId = uniqueId();
        const batch = eventsOverTime(customerId, Math.min(capabilities.maxAtomicBatch, 500));
        await store.insertEvents(batch);
        assert.deepEqual(await readAll(store, customerId, { limit: 1000 }), newestFirst(batch));
      });
    });

    describe('customer scoping', function () {
      it("never shows, changes or counts another customer's event", async function () {
        const owner = uniqueId();
        const stranger = uniqueId();
        const event = newEvent(owner);
        await store.insertEvents([event]);

        assert.equal(await store.getEvent(stranger, event.eventId), null);
        assert.deepEqual((await store.listEvents(stranger, { limit: 10 })).events, []);
        assert.equal(await store.setStatus(stranger, event.eventId, 'delivered'), false);
        assert.deepEqual(await store.listAttempts(stranger, event.eventId), []);
        assert.equal((await store.getEvent(owner, event.eventId))?.status, 'pending');
      });

      it("lists only the customer's own events", async function () {
        const a = uniqueId();
        const b = uniqueId();
        const eventsA = eventsOverTime(a, 5);
        const eventsB = eventsOverTime(b, 5);
        await store.insertEvents(eventsA);
        await store.insertEvents(eventsB);
        assert.deepEqual(await readAll(store, a, { limit: 100 }), newestFirst(eventsA));
        assert.deepEqual(await readAll(store, b, { limit: 100 }), newestFirst(eventsB));
      });
    });

    describe('the inbox', function () {
      it('lists newest first, honouring the limit, with a cursor only while more remain', async function () {
        const customerId = uniqueId();
        const events = eventsOverTime(customerId, 7);
        await store.insertEvents(events);
        const expected = newestFirst(events);

        const first = await store.listEvents(customerId, { limit: 3 });
        assert.deepEqual(first.events.map((e) => e.eventId), expected.slice(0, 3));
        assert.equal(typeof first.nextCursor, 'string');

        const all = await store.listEvents(customerId, { limit: 7 });
        assert.deepEqual(all.events.map((e) => e.eventId), expected);
        assert.equal(all.nextCursor, null, 'no cursor when the page holds the last matching event');

        const bigger = await store.listEvents(customerId, { limit: 1000 });
        assert.deepEqual(bigger.events.map((e) => e.eventId), expected);
        assert.equal(bigger.nextCursor, null);
      });

      it('returns an empty page and no cursor for a customer without events', async function () {
        assert.deepEqual(await store.listEvents(uniqueId(), { limit: 100 }), { events: [], nextCursor: null });
      });

      it('follows cursors through every event exactly once, in order', async function () {
        const customerId = uniqueId();
        const events = eventsOverTime(customerId, 53);
        await store.insertEvents(events);
        assert.deepEqual(await readAll(store, customerId, { limit: 10 }), newestFirst(events));
        assert.deepEqual(await readAll(store, customerId, { limit: 1 }), newestFirst(events));
      });

      it('visits every event that existed when paging began exactly once while new events arrive between pages', async function () {
        const customerId = uniqueId();
        const initial = eventsOverTime(customerId, 40, { endAgoMs: 1000 });
        await store.insertEvents(initial);

        const seen: string[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < 100; page++) {
          const result = await store.listEvents(customerId, { limit: 7, cursor });
          seen.push(...result.events.map((e) => e.eventId));
          // New events (newer than all existing ones) and another customer's events arrive meanwhile.
          await store.insertEvents([newEvent(customerId), newEvent(customerId)]);
          await store.insertEvents([newEvent(uniqueId())]);
          if (result.nextCursor === null) break;
          cursor = result.nextCursor;
        }
        const initialIds = new Set(initial.map((e) => e.eventId));
        const seenInitial = seen.filter((id) => initialIds.has(id));
        assert.equal(new Set(seen).size, seen.length, 'no event is visited twice');
        assert.deepEqual(seenInitial, newestFirst(initial), 'every pre-existing event once, newest first');
      });

      it('filters by event type, excluding events without one', async function () {
        const customerId = uniqueId();
        const events = eventsOverTime(customerId, 12, { eventType: (i) => (i % 3 === 0 ? 'order.paid' : i % 3 === 1 ? 'user.created' : null) });
        await store.insertEvents(events);
        const paid = events.filter((e) => e.eventType === 'order.paid');
        assert.deepEqual(await readAll(store, customerId, { limit: 2, eventType: 'order.paid' }), newestFirst(paid));
        assert.deepEqual(await readAll(store, customerId, { limit: 2, eventType: 'order' }), [], 'exact match, not a prefix');
      });

      it('filters by status', async function () {
        const customerId = uniqueId();
        const events = eventsOverTime(customerId, 10);
        await store.insertEvents(events);
        const statuses: EventStatus[] = ['delivered', 'failed', 'unmatched'];
        for (let i = 0; i < 6; i++) await store.setStatus(customerId, events[i].eventId, statuses[i % 3]);

        for (const status of statuses) {
          const expected = newestFirst(events.filter((_, i) => i < 6 && statuses[i % 3] === status));
          assert.deepEqual(await readAll(store, customerId, { limit: 1, status }), expected, status);
        }
        assert.deepEqual(await readAll(store, customerId, { limit: 3, status: 'pending' }), newestFirst(events.slice(6)));
      });

      it('filters by time: start inclusive, end exclusive, to the millisecond', async function () {
        const customerId = uniqueId();
        const base = Date.now() - 10 * HOUR;
        const events = [0, 1000, 1999, 2000, 2001, 3000].map((offset) => newEvent(customerId, { timestamp: base + offset }));
        await store.insertEvents(events);
        const ids = (offsets: number[]) => newestFirst(events.filter((e) => offsets.includes(e.timestamp - base)));

        assert.deepEqual(await readAll(store, customerId, { limit: 100, startTime: base + 1999 }), ids([1999, 2000, 2001, 3000]));
        assert.deepEqual(await readAll(store, customerId, { limit: 100, endTime: base + 2000 }), ids([0, 1000, 1999]));
        assert.deepEqual(await readAll(store, customerId, { limit: 1, startTime: base + 1000, endTime: base + 2001 }), ids([1000, 1999, 2000]));
        assert.deepEqual(await readAll(store, customerId, { limit: 100, startTime: base + 2000, endTime: base + 2000 }), []);
      });

      it('combines every filter with pagination', async function () {
        const customerId = uniqueId();
        const base = Date.now() - 5 * HOUR;
        const events = Array.from({ length: 30 }, (_, i) => newEvent(customerId, { timestamp: base + i * 10, eventType: i % 2 === 0 ? 'a.b' : 'c.d' }));
        await store.insertEvents(events);
        for (let i = 0; i < 30; i += 3) await store.setStatus(customerId, events[i].eventId, 'delivered');

        const expected = events.filter((e, i) => e.eventType === 'a.b' && i % 3 === 0 && e.timestamp >= base + 50 && e.timestamp < base + 250);
        assert.ok(expected.length >= 3);
        const query = { limit: 2, eventType: 'a.b', status: 'delivered' as const, startTime: base + 50, endTime: base + 250 };
        assert.deepEqual(await readAll(store, customerId, query), newestFirst(expected));
      });

      it('rejects a cursor it cannot decode with invalid_request', async function () {
        const customerId = uniqueId();
        await store.insertEvents(eventsOverTime(customerId, 3));
        const bad = [
          'not a cursor!',
          'AAAA',
          Buffer.from('not json').toString('base64url'),
          Buffer.from('[]').toString('base64url'),
          encodeCursor({ nonsense: true }),
          encodeCursor({ before: 'not-an-event-id' }),
          '',
        ];
        for (const cursor of bad) {
          await assertInvalidRequest(store.listEvents(customerId, { limit: 10, cursor }), `cursor ${JSON.stringify(cursor)}`);
        }
      });
    });

    describe('status', function () {
      it('sets the status and reports whether it changed', async function () {
        const customerId = uniqueId();
        const event = newEvent(customerId);
        await store.insertEvents([event]);
        assert.equal(await store.setStatus(customerId, event.eventId, 'delivered'), true);
        assert.equal((await store.getEvent(customerId, event.eventId))?.status, 'delivered');
        assert.equal(await store.setStatus(customerId, uuidv7At(Date.now()), 'delivered'), false, 'unknown event');
      });

      it('with onlyFrom, changes only from one of those statuses', async function () {
        const customerId = uniqueId();
        const event = newEvent(customerId);
        await store.insertEvents([event]);
        assert.equal(await store.setStatus(customerId, event.eventId, 'failed', ['delivered', 'unmatched']), false);
        assert.equal((await store.getEvent(customerId, event.eventId))?.status, 'pending');
        assert.equal(await store.setStatus(customerId, event.eventId, 'delivered', ['pending']), true);
        assert.equal(await store.setStatus(customerId, event.eventId, 'failed', ['pending']), false, 'no longer pending');
        assert.equal((await store.getEvent(customerId, event.eventId))?.status, 'delivered');
      });
    });

    it('lists no attempts for an event without any (attempts are recorded by the DeliveryStore)', async function () {
      const customerId = uniqueId();
      const event = newEvent(customerId);
      await store.insertEvents([event]);
      assert.deepEqual(await store.listAttempts(customerId, event.eventId), []);
    });

    describe('the pending sweeper', function () {
      it('lists pending events older than the bound, oldest first, across customers, up to the limit', async function () {
        // Far in the past so that other tests' events (stamped now) stay out of the window.
        const base = 86_400_000 + Math.floor(Math.random() * 1_000_000) * 1000;
        const a = uniqueId();
        const b = uniqueId();
        const staleA = newEvent(a, { timestamp: base + 10 });
        const staleB = newEvent(b, { timestamp: base + 20 });
        const settled = newEvent(a, { timestamp: base + 15 });
        const fresh = newEvent(a, { timestamp: base + 500 });
        await store.insertEvents([staleA, settled, fresh]);
        await store.insertEvents([staleB]);
        await store.setStatus(a, settled.eventId, 'delivered');

        const mine = new Set([staleA, staleB, settled, fresh].map((e) => e.eventId));
        const listed = (await store.listStalePending(base + 100, 10_000)).filter((e) => mine.has(e.eventId));
        assert.deepEqual(listed.map((e) => e.eventId), [staleA.eventId, staleB.eventId]);
        assert.equal(listed[0].status, 'pending');
        assert.deepEqual(listed[0].payload, staleA.payload);

        const limited = await store.listStalePending(base + 100, 1);
        assert.equal(limited.length, 1);
        assert.ok(limited[0].timestamp <= staleA.timestamp, 'the oldest comes first');
      });
    });

    it('answers ping', async function () {
      await store.ping();
    });
  });
}
