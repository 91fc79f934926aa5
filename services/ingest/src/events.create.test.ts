import assert from 'node:assert/strict';
import { MAX_PAYLOAD_DEPTH } from './schemas.ts';
import { assertAcceptedAt, assertNothingInternal, assertProblem, inboxEvents, postChunked } from '@triggers/testkit';
import { ingestRoute } from './ingest-route.test-support.ts';

const MAX_BYTES = 2048;
/** A request body of exactly `bytes` bytes. */
const bodyOfSize = (bytes: number) => {
  const empty = JSON.stringify({ payload: { pad: '' } });
  return JSON.stringify({ payload: { pad: 'x'.repeat(bytes - empty.length) } });
};
/** `{"nested": {"nested": ...}}`, `depth` objects deep counting the payload itself. */
const nestedPayload = (depth: number): Record<string, unknown> => {
  let payload: Record<string, unknown> = { leaf: true };
  for (let level = 1; level < depth; level++) payload = { nested: payload };
  return payload;
};

describe('POST /api/v1/events', () => {
  const route = ingestRoute('/api/v1/events', MAX_BYTES);
  const send = route.send;
  const sendText = (body: string | Blob, headers: Record<string, string>) =>
    fetch(`${route.server.url}/api/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${route.customer.apiKey}`, ...headers }, body });
  const assertNothingStored = async () => assert.deepEqual(await inboxEvents(route.server, route.customer.apiKey), [], 'nothing was stored');

  describe('happy', () => {
    it('202 with exactly event_id, status, message and timestamp; the id is a UUIDv7 of that millisecond', async () => {
      const before = Date.now();
      const response = await send({ payload: { event_type: 'order.created', order_id: '12345', amount: 99.99 } });
      const after = Date.now();

      assert.equal(response.status, 202, response.text);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json(;|$)/);
      assert.deepEqual(Object.keys(response.body).sort(), ['event_id', 'message', 'status', 'timestamp']);
      assert.equal(response.body.status, 'accepted');
      assert.equal(response.body.message, 'Event accepted for processing');
      assertAcceptedAt(response.body.event_id, response.body.timestamp);
      const at = Date.parse(response.body.timestamp);
      assert.ok(at >= before && at <= after, `${response.body.timestamp} is not between the request's start and end`);
      assert.equal(response.headers.get('idempotent-replayed'), null);
    });

    it('keeps a payload key named __proto__ as an ordinary field, without touching any prototype', async () => {
      const raw = '{"payload":{"event_type":"proto.test","__proto__":{"polluted":true},"constructor":"c"}}';
      const response = await sendText(raw, { 'content-type': 'application/json' });
      assert.equal(response.status, 202);
      const { event_id } = (await response.json()) as { event_id: string };
      const read = await route.server.request('GET', `/api/v1/events/${event_id}`, { apiKey: route.customer.apiKey });
      assert.equal(read.status, 200);
      assert.match(read.text, /"__proto__":\{"polluted":true\}/, 'the __proto__ field is stored and returned');
      assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype was polluted');
    });

    it('stores the event exactly as sent: readable by id, pending until matched, in the inbox', async () => {
      const payload = {
        event_type: 'order.created',
        nested: { list: [1, 'two', { three: 3 }], empty: {}, none: null },
        flags: [true, false],
        big: 12345678901234,
        text: 'Zoë ☕ 漢字 \u0000 "quoted" \n newline',
      };
      const accepted = (await send({ payload })).body;

      const read = await route.server.request('GET', `/api/v1/events/${accepted.event_id}`, { apiKey: route.customer.apiKey });
      assert.equal(read.status, 200, read.text);
      assert.equal(read.body.event_id, accepted.event_id);
      assert.equal(read.body.customer_id, route.customer.customerId);
      assert.deepEqual(read.body.payload, payload);
      assert.equal(read.body.timestamp, accepted.timestamp);
      // Nothing subscribes, so the matcher may already have settled it as unmatched.
      assert.ok(['pending', 'unmatched'].includes(read.body.status), read.body.status);
      assert.equal(read.body.delivery_attempts, 0);
      assert.deepEqual(read.body.attempts, []);

      const inbox = await inboxEvents(route.server, route.customer.apiKey);
      assert.deepEqual(inbox.map((e) => e.event_id), [accepted.event_id]);
      assert.equal((await route.server.request('GET', '/api/v1/inbox?event_type=order.created', { apiKey: route.customer.apiKey })).body.total, 1);
    });

    it('accepts any JSON object: empty, without event_type, with a non-string event_type', async () => {
      for (const payload of [{}, { amount: 1 }, { event_type: 42 }, { event_type: null }]) {
        const response = await send({ payload });
        assert.equal(response.status, 202, `${JSON.stringify(payload)}: ${response.text}`);
        const read = await route.server.request('GET', `/api/v1/events/${response.body.event_id}`, { apiKey: route.customer.apiKey });
        assert.deepEqual(read.body.payload, payload);
      }
    });

    it(`accepts a payload nested exactly ${MAX_PAYLOAD_DEPTH} levels deep`, async () => {
      const response = await send({ payload: nestedPayload(MAX_PAYLOAD_DEPTH) });
      assert.equal(response.status, 202, response.text);
      const read = await route.server.request('GET', `/api/v1/events/${response.body.event_id}`, { apiKey: route.customer.apiKey });
      assert.deepEqual(read.body.payload, nestedPayload(MAX_PAYLOAD_DEPTH));
    });

    it('gives successive events increasing (time-ordered) ids', async () => {
      const ids: string[] = [];
      for (let n = 0; n < 5; n++) ids.push((await send({ payload: { n } })).body.event_id);
      assert.deepEqual([...ids].sort(), ids);
      assert.equal(new Set(ids).size, 5);
    });

    it('echoes X-Request-Id when sent, and makes one up otherwise', async () => {
      const echoed = await send({ payload: {} }, { 'x-request-id': 'client-req-42' });
      assert.equal(echoed.headers.get('x-request-id'), 'client-req-42');
      const generated = await send({ payload: {} });
      assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
      assert.notEqual((await send({ payload: {} })).headers.get('x-request-id'), generated.headers.get('x-request-id'));
    });

    it('accepts application/json with parameters, and a body of exactly the size limit', async () => {
      assert.equal((await sendText(JSON.stringify({ payload: {} }), { 'content-type': 'application/json; charset=utf-8' })).status, 202);
      assert.equal((await sendText(bodyOfSize(MAX_BYTES), { 'content-type': 'application/json' })).status, 202);
    });

    it('accepts a chunked body under the limit (no Content-Length)', async () => {
      const response = await postChunked(route.server.url, '/api/v1/events', route.customer.apiKey, ['{"payload":', '{"chunked":', 'true}}']);
      assert.equal(response.status, 202, response.text);
      assert.deepEqual((await inboxEvents(route.server, route.customer.apiKey)).map((e) => e.payload), [{ chunked: true }]);
    });
  });

  describe('error', () => {
    describe('400 invalid_json', () => {
      for (const [what, body] of [
        ['a truncated object', '{"payload": {"a": 1}'],
        ['single quotes', "{'payload': {}}"],
        ['a trailing comma', '{"payload": {},}'],
        ['an empty body', ''],
        ['two documents', '{"payload":{}} {"payload":{}}'],
        ['plain words', 'hello'],
      ] as const) {
        it(`for ${what}`, async () => {
          const response = await route.server.request('POST', '/api/v1/events', { apiKey: route.customer.apiKey, body, headers: { 'content-type': 'application/json' } });
          assertProblem(response, 400, 'invalid_json');
          await assertNothingStored();
        });
      }
    });

    describe('400 invalid_request', () => {
      for (const [what, json] of [
        ['no payload', {}],
        ['a payload that is an array', { payload: [1, 2] }],
        ['a payload that is a string', { payload: 'order.created' }],
        ['a payload that is null', { payload: null }],
        ['a payload that is a number', { payload: 42 }],
        ['a payload that is a boolean', { payload: true }],
        ['an unknown top-level field', { payload: {}, event_type: 'order.created' }],
        ['a body that is an array', [{ payload: {} }]],
        ['a body that is null', null],
        ['a body that is a string', 'payload'],
        [`a payload nested ${MAX_PAYLOAD_DEPTH + 1} levels deep`, { payload: nestedPayload(MAX_PAYLOAD_DEPTH + 1) }],
      ] as const) {
        it(`for ${what}`, async () => {
          const response = await send(json);
          assertProblem(response, 400, 'invalid_request');
          await assertNothingStored();
        });
      }

      it('names what is wrong and where', async () => {
        assert.match((await send({})).body.detail, /payload/);
        assert.match((await send({ payload: {}, extra: 1 })).body.detail, /unknown field "extra"/);
        assert.match((await send({ payload: nestedPayload(MAX_PAYLOAD_DEPTH + 1) })).body.detail, new RegExp(`payload: .*${MAX_PAYLOAD_DEPTH} levels`));
      });

      // Found by this suite: a few thousand levels overflowed the serialiser's stack while storing,
      // which was answered as 503 "a backend is unavailable" (and logged as a database failure).
      it('for a payload nested thousands of levels deep, well under the size limit: a client error, not 503', async () => {
        const depth = 1000;
        const body = `{"payload":{"a":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
        assert.ok(body.length < MAX_BYTES);
        const response = await route.server.request('POST', '/api/v1/events', { apiKey: route.customer.apiKey, body, headers: { 'content-type': 'application/json' } });
        assertProblem(response, 400, 'invalid_request');
        await assertNothingStored();
      });
    });

    describe('413 payload_too_large', () => {
      it('for a body one byte over the limit, announced by Content-Length', async () => {
        const response = await sendText(bodyOfSize(MAX_BYTES + 1), { 'content-type': 'application/json' });
        const text = await response.text();
        assert.equal(response.status, 413, text);
        assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
        assert.equal(JSON.parse(text).code, 'payload_too_large');
        assertNothingInternal(text);
        await assertNothingStored();
      });

      it('for a chunked body without Content-Length, found out while reading', async () => {
        const chunks = ['{"payload":{"pad":"', ...Array.from({ length: 10 }, () => 'x'.repeat(500)), '"}}'];
        const response = await postChunked(route.server.url, '/api/v1/events', route.customer.apiKey, chunks);
        assertProblem(response, 413, 'payload_too_large');
        await assertNothingStored();
      });
    });

    describe('415 unsupported_media_type', () => {
      const body = JSON.stringify({ payload: { event_type: 'order.created' } });
      for (const [what, headers, sent] of [
        // A Blob without a type is the one body fetch sends with no Content-Type at all.
        ['no Content-Type', {}, new Blob([body])],
        ['text/plain', { 'content-type': 'text/plain' }, body],
        ['a form', { 'content-type': 'application/x-www-form-urlencoded' }, body],
        ['application/jsonp', { 'content-type': 'application/jsonp' }, body],
      ] as const) {
        it(`for ${what}, even when the body is valid JSON`, async () => {
          const response = await sendText(sent, headers);
          const text = await response.text();
          assert.equal(response.status, 415, text);
          assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
          assert.deepEqual(Object.keys(JSON.parse(text)).sort(), ['code', 'detail', 'status', 'title', 'type']);
          assert.equal(JSON.parse(text).code, 'unsupported_media_type');
          await assertNothingStored();
        });
      }
    });

    it('checks the media type, then the size, then the JSON, then the shape', async () => {
      const tooBig = bodyOfSize(MAX_BYTES + 1).replace('{', '{{');
      assert.equal((await sendText(tooBig, { 'content-type': 'text/plain' })).status, 415);
      assert.equal((await sendText(tooBig, { 'content-type': 'application/json' })).status, 413);
      assert.equal((await sendText('{"nope":', { 'content-type': 'application/json' })).status, 400);
    });
  });

  describe('security', () => {
    it("stores the event for the key's customer only", async () => {
      const other = await route.server.createCustomer();
      const accepted = (await send({ payload: { secret: 'A only' } })).body;
      assertProblem(await route.server.request('GET', `/api/v1/events/${accepted.event_id}`, { apiKey: other.apiKey }), 404, 'not_found');
      assert.deepEqual(await inboxEvents(route.server, other.apiKey), []);
    });

    it('never echoes the API key, and problem documents carry no internals', async () => {
      const responses = [
        await send({ payload: {} }),
        await send({ payload: [] }),
        await route.server.request('POST', '/api/v1/events', { apiKey: route.customer.apiKey, body: '{', headers: { 'content-type': 'application/json' } }),
      ];
      for (const response of responses) assertNothingInternal(response.text, route.customer.apiKey);
    });
  });
});
