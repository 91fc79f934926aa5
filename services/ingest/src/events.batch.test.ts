import assert from 'node:assert/strict';
import { MAX_BATCH_EVENTS, MAX_PAYLOAD_DEPTH } from './schemas.ts';
import { assertAcceptedAt, assertProblem, inboxEvents } from '@triggers/testkit';
import { ingestRoute } from './ingest-route.test-support.ts';

const MAX_BYTES = 64 * 1024;
const items = (count: number, payload: (n: number) => Record<string, unknown> = (n) => ({ event_type: 'batch.item', n })) =>
  Array.from({ length: count }, (_, n) => ({ payload: payload(n) }));

describe('POST /api/v1/events/batch', () => {
  const route = ingestRoute('/api/v1/events/batch', MAX_BYTES);
  const send = route.send;
  const assertNothingStored = async () => assert.deepEqual(await inboxEvents(route.server, route.customer.apiKey), [], 'nothing was stored');

  describe('happy', () => {
    it('202 with one {event_id, status, timestamp} per event, in request order', async () => {
      const payloads = [{ event_type: 'order.created', n: 0 }, { n: 1 }, { event_type: 'order.paid', nested: { deep: [1, 2] } }];
      const response = await send({ events: payloads.map((payload) => ({ payload })) });

      assert.equal(response.status, 202, response.text);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json(;|$)/);
      assert.deepEqual(Object.keys(response.body), ['events']);
      assert.equal(response.body.events.length, payloads.length);
      for (const accepted of response.body.events) {
        assert.deepEqual(Object.keys(accepted).sort(), ['event_id', 'status', 'timestamp']);
        assert.equal(accepted.status, 'accepted');
        assertAcceptedAt(accepted.event_id, accepted.timestamp);
      }
      const ids = response.body.events.map((e: { event_id: string }) => e.event_id);
      assert.deepEqual([...ids].sort(), ids, 'ids increase in request order');
      assert.equal(new Set(ids).size, ids.length);

      // Each id is the event of the payload at the same index.
      for (const [index, accepted] of response.body.events.entries()) {
        const read = await route.server.request('GET', `/api/v1/events/${accepted.event_id}`, { apiKey: route.customer.apiKey });
        assert.equal(read.status, 200, read.text);
        assert.deepEqual(read.body.payload, payloads[index]);
        assert.equal(read.body.timestamp, accepted.timestamp);
        assert.ok(['pending', 'unmatched'].includes(read.body.status));
      }
    });

    it('stores every event of the batch', async () => {
      const response = await send({ events: items(25) });
      assert.equal(response.status, 202, response.text);
      const stored = await inboxEvents(route.server, route.customer.apiKey);
      assert.deepEqual(
        stored.map((e) => e.event_id).sort(),
        response.body.events.map((e: { event_id: string }) => e.event_id).sort(),
      );
      assert.deepEqual(stored.map((e) => e.payload.n).sort((a, b) => a - b), Array.from({ length: 25 }, (_, n) => n));
    });

    it(`accepts 1 and ${MAX_BATCH_EVENTS} events`, async () => {
      assert.equal((await send({ events: items(1) })).body.events.length, 1);
      const full = await send({ events: items(MAX_BATCH_EVENTS) });
      assert.equal(full.status, 202, full.text);
      assert.equal(full.body.events.length, MAX_BATCH_EVENTS);
      assert.equal((await inboxEvents(route.server, route.customer.apiKey)).length, MAX_BATCH_EVENTS + 1);
    });

    it('echoes X-Request-Id', async () => {
      assert.equal((await send({ events: items(2) }, { 'x-request-id': 'batch-req-7' })).headers.get('x-request-id'), 'batch-req-7');
    });
  });

  describe('error', () => {
    describe('400 invalid_request for the whole batch, and nothing stored', () => {
      for (const [what, json] of [
        ['0 events', { events: [] }],
        [`${MAX_BATCH_EVENTS + 1} events`, { events: items(MAX_BATCH_EVENTS + 1) }],
        ['events that is not an array', { events: { payload: {} } }],
        ['events that is a string', { events: 'many' }],
        ['events that is null', { events: null }],
        ['no events', {}],
        ['an unknown top-level field', { events: items(1), source: 'crm' }],
        ['a body that is an array', items(2)],
        ['a body that is null', null],
      ] as const) {
        it(`for ${what}`, async () => {
          assertProblem(await send(json), 400, 'invalid_request', { errors: [] });
          await assertNothingStored();
        });
      }
    });

    it('one invalid item among valid ones fails the whole batch with errors listing exactly its index', async () => {
      const events: unknown[] = items(5);
      events[2] = { payload: ['not', 'an', 'object'] };
      const response = await send({ events });

      assertProblem(response, 400, 'invalid_request', { errors: response.body?.errors });
      assert.deepEqual(response.body.errors.map((e: { index: number }) => e.index), [2]);
      assert.deepEqual(Object.keys(response.body.errors[0]).sort(), ['detail', 'index']);
      assert.match(response.body.errors[0].detail, /payload/);
      await assertNothingStored();
    });

    it('lists every invalid item, in order, each with what is wrong', async () => {
      const events: unknown[] = items(9);
      events[0] = {};
      events[3] = { payload: 'string' };
      events[4] = { payload: null };
      events[5] = { payload: {}, extra: true };
      events[7] = 'not an item';
      events[8] = { payload: JSON.parse(`${'{"a":'.repeat(MAX_PAYLOAD_DEPTH)}{}${'}'.repeat(MAX_PAYLOAD_DEPTH)}`) };
      const response = await send({ events });

      assertProblem(response, 400, 'invalid_request', { errors: response.body?.errors });
      assert.deepEqual(response.body.errors.map((e: { index: number }) => e.index), [0, 3, 4, 5, 7, 8]);
      for (const error of response.body.errors) assert.ok(typeof error.detail === 'string' && error.detail.length > 0);
      assert.match(response.body.errors[3].detail, /unknown field "extra"/);
      assert.match(response.body.errors[5].detail, /levels deep/);
      assert.match(response.body.detail, /6 of 9/);
      await assertNothingStored();
    });

    it('an invalid item at the last index of a full batch is found too', async () => {
      const events: unknown[] = items(MAX_BATCH_EVENTS);
      events[MAX_BATCH_EVENTS - 1] = { payload: 1 };
      const response = await send({ events });
      assert.deepEqual(response.body.errors.map((e: { index: number }) => e.index), [MAX_BATCH_EVENTS - 1]);
      await assertNothingStored();
    });

    it('400 invalid_json, 413 payload_too_large and 415 unsupported_media_type, storing nothing', async () => {
      const raw = (body: string, contentType: string) =>
        route.server.request('POST', '/api/v1/events/batch', { apiKey: route.customer.apiKey, body, headers: { 'content-type': contentType } });
      assertProblem(await raw('{"events": [', 'application/json'), 400, 'invalid_json');
      const tooBig = JSON.stringify({ events: items(2, () => ({ pad: 'x'.repeat(MAX_BYTES / 2) })) });
      assertProblem(await raw(tooBig, 'application/json'), 413, 'payload_too_large');
      assertProblem(await raw(JSON.stringify({ events: items(1) }), 'text/plain'), 415, 'unsupported_media_type');
      await assertNothingStored();
    });
  });

  describe('security', () => {
    it("stores the batch for the key's customer only", async () => {
      const other = await route.server.createCustomer();
      const accepted = (await send({ events: items(3) })).body.events;
      for (const { event_id } of accepted) {
        assertProblem(await route.server.request('GET', `/api/v1/events/${event_id}`, { apiKey: other.apiKey }), 404, 'not_found');
      }
      assert.deepEqual(await inboxEvents(route.server, other.apiKey), []);
    });
  });
});
