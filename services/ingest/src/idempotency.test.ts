import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startTestServer, type TestServer } from '@triggers/all-in-one/test-server';
import type { TestResponse } from '@triggers/core/testing';
import { assertProblem, inboxEvents, rawRequest, type CustomerCredentials as Customer } from '@triggers/testkit';

const EVENTS = '/api/v1/events';
const BATCH = '/api/v1/events/batch';

describe('Idempotency-Key on POST /api/v1/events and /api/v1/events/batch', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.close();
  });

  let customer: Customer;
  let key: string;
  beforeEach(async () => {
    customer = await server.createCustomer();
    key = `order-${Math.random().toString(36).slice(2)}`;
  });

  /** Sends `body` as is, so that "the same body" means the same bytes. */
  const send = (path: string, body: string, idempotencyKey: string | undefined, who: Customer = customer) =>
    server.request('POST', path, {
      apiKey: who.apiKey,
      body,
      headers: { 'content-type': 'application/json', ...(idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey }) },
    });
  const eventBody = (payload: Record<string, unknown> = { event_type: 'order.created', order_id: 'o-1' }) => JSON.stringify({ payload });
  const stored = async (who: Customer = customer) => (await inboxEvents(server, who.apiKey)).map((e) => e.event_id);
  const assertReplayOf = (replay: TestResponse, original: TestResponse) => {
    assert.equal(replay.status, original.status, replay.text);
    assert.deepEqual(replay.body, original.body);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
  };

  describe('happy', () => {
    it('a repeat with the same key and body replays the first answer and creates nothing', async () => {
      const first = await send(EVENTS, eventBody(), key);
      assert.equal(first.status, 202, first.text);
      assert.equal(first.headers.get('idempotent-replayed'), null);

      const second = await send(EVENTS, eventBody(), key);
      const third = await send(EVENTS, eventBody(), key);
      assertReplayOf(second, first);
      assertReplayOf(third, first);
      assert.deepEqual(await stored(), [first.body.event_id]);
    });

    it('a batch replays every id, in order, and creates nothing', async () => {
      const body = JSON.stringify({ events: [{ payload: { n: 1 } }, { payload: { n: 2 } }, { payload: { n: 3 } }] });
      const first = await send(BATCH, body, key);
      assert.equal(first.status, 202, first.text);
      assertReplayOf(await send(BATCH, body, key), first);
      assert.deepEqual((await stored()).sort(), first.body.events.map((e: { event_id: string }) => e.event_id).sort());
    });

    it('different keys with the same body are different events', async () => {
      const a = await send(EVENTS, eventBody(), `${key}-a`);
      const b = await send(EVENTS, eventBody(), `${key}-b`);
      assert.notEqual(a.body.event_id, b.body.event_id);
      assert.equal(b.headers.get('idempotent-replayed'), null);
      assert.equal((await stored()).length, 2);
    });

    it('without a key, every request is a new event', async () => {
      await send(EVENTS, eventBody(), undefined);
      await send(EVENTS, eventBody(), undefined);
      assert.equal((await stored()).length, 2);
    });

    it('accepts keys of 1 and 255 printable ASCII characters', async () => {
      for (const printable of ['k', 'K'.repeat(255), 'a b!"#$%&\'()*+,-./0123456789:;<=>?@[\\]^_`{|}~']) {
        const response = await send(EVENTS, eventBody({ printable }), printable);
        assert.equal(response.status, 202, `${JSON.stringify(printable)}: ${response.text}`);
        assertReplayOf(await send(EVENTS, eventBody({ printable }), printable), response);
      }
    });
  });

  describe('error', () => {
    it('422 idempotency_key_reused for the same key with a different body; the first answer still replays', async () => {
      const first = await send(EVENTS, eventBody({ amount: 1 }), key);
      assert.equal(first.status, 202);

      assertProblem(await send(EVENTS, eventBody({ amount: 2 }), key), 422, 'idempotency_key_reused');
      // Bytes, not meaning: the same JSON written differently is a different body.
      assertProblem(await send(EVENTS, ` ${eventBody({ amount: 1 })}`, key), 422, 'idempotency_key_reused');
      // The same key on the other route is a different body too.
      assertProblem(await send(BATCH, JSON.stringify({ events: [{ payload: { amount: 1 } }] }), key), 422, 'idempotency_key_reused');

      assertReplayOf(await send(EVENTS, eventBody({ amount: 1 }), key), first);
      assert.deepEqual(await stored(), [first.body.event_id]);
    });

    it('409 idempotency_key_in_progress while the first request holds the key; 422 for another body meanwhile', async () => {
      const body = eventBody();
      // Another replica is still handling the first request with this key: it claimed it through
      // the same store the route uses, with the hash of the same bytes.
      const store = server.server.ctx.backends.idempotencyStore;
      const hash = createHash('sha256').update(body).digest('hex');
      assert.equal((await store.claim(customer.customerId, key, hash, { leaseMs: 60_000, ttlMs: 86_400_000 })).state, 'acquired');

      assertProblem(await send(EVENTS, body, key), 409, 'idempotency_key_in_progress');
      assertProblem(await send(EVENTS, eventBody({ other: true }), key), 422, 'idempotency_key_reused');
      assert.deepEqual(await stored(), []);

      // The first request gave up (released its claim): a retry now goes through.
      await store.release(customer.customerId, key);
      const retried = await send(EVENTS, body, key);
      assert.equal(retried.status, 202, retried.text);
      assert.equal(retried.headers.get('idempotent-replayed'), null);
      assert.deepEqual(await stored(), [retried.body.event_id]);
    });

    it('20 concurrent requests with one key and body store exactly one event; the rest are 409 or replays of it', async () => {
      const body = eventBody({ event_type: 'race', n: 1 });
      const responses = await Promise.all(Array.from({ length: 20 }, () => send(EVENTS, body, key)));

      const accepted = responses.filter((r) => r.status === 202);
      const originals = accepted.filter((r) => r.headers.get('idempotent-replayed') === null);
      assert.equal(originals.length, 1, responses.map((r) => `${r.status} ${r.headers.get('idempotent-replayed')}`).join(', '));
      for (const replay of accepted) assert.deepEqual(replay.body, originals[0].body);
      for (const response of responses.filter((r) => r.status !== 202)) assertProblem(response, 409, 'idempotency_key_in_progress');

      assert.deepEqual(await stored(), [originals[0].body.event_id]);
      assertReplayOf(await send(EVENTS, body, key), originals[0]);
    });

    it('20 concurrent batches with one key store the batch exactly once', async () => {
      const body = JSON.stringify({ events: [{ payload: { n: 1 } }, { payload: { n: 2 } }] });
      const responses = await Promise.all(Array.from({ length: 20 }, () => send(BATCH, body, key)));
      const originals = responses.filter((r) => r.status === 202 && r.headers.get('idempotent-replayed') === null);
      assert.equal(originals.length, 1);
      assert.ok(responses.every((r) => r.status === 409 || (r.status === 202 && JSON.stringify(r.body) === JSON.stringify(originals[0].body))));
      assert.equal((await stored()).length, 2);
    });

    describe('400 invalid_request for a malformed key, storing nothing', () => {
      it('256 characters', async () => {
        assertProblem(await send(EVENTS, eventBody(), 'K'.repeat(256)), 400, 'invalid_request');
        assertProblem(await send(BATCH, JSON.stringify({ events: [{ payload: {} }] }), 'K'.repeat(256)), 400, 'invalid_request');
        assert.deepEqual(await stored(), []);
      });

      // fetch and node:http refuse to send these, so they go out byte for byte on a socket.
      const rawKeys: [string, Buffer][] = [
        ['empty', Buffer.alloc(0)],
        ['a tab (a control character HTTP allows in a value)', Buffer.from('key\twith-tab', 'latin1')],
        ['non-ASCII UTF-8', Buffer.from('ключ-заказа', 'utf8')],
        ['a Latin-1 byte', Buffer.from('cl\xe9', 'latin1')],
      ];
      for (const [what, value] of rawKeys) {
        it(what, async () => {
          for (const [path, body] of [[EVENTS, eventBody()], [BATCH, JSON.stringify({ events: [{ payload: {} }] })]]) {
            const response = await rawRequest(server.url, {
              method: 'POST',
              path,
              headers: [['Authorization', `Bearer ${customer.apiKey}`], ['Content-Type', 'application/json'], ['Idempotency-Key', value]],
              body,
            });
            assert.equal(response.status, 400, response.text);
            assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
            assert.equal(JSON.parse(response.text).code, 'invalid_request');
            assert.match(JSON.parse(response.text).detail, /Idempotency-Key/);
            assert.ok(response.headers['x-request-id']);
          }
          assert.deepEqual(await stored(), []);
        });
      }

      it('a control byte (refused by the HTTP parser before the handler runs)', async () => {
        const response = await rawRequest(server.url, {
          method: 'POST',
          path: EVENTS,
          headers: [['Authorization', `Bearer ${customer.apiKey}`], ['Content-Type', 'application/json'], ['Idempotency-Key', Buffer.from('key\x01one', 'latin1')]],
          body: eventBody(),
        });
        assert.equal(response.status, 400);
        assert.equal(response.text.includes(customer.apiKey), false);
        assert.deepEqual(await stored(), []);
      });
    });
  });

  describe('security', () => {
    it("keys are scoped per customer: B's request with A's key and body is B's own new event", async () => {
      const b = await server.createCustomer();
      const aFirst = await send(EVENTS, eventBody(), key);
      const bFirst = await send(EVENTS, eventBody(), key, b);

      assert.equal(bFirst.status, 202, bFirst.text);
      assert.equal(bFirst.headers.get('idempotent-replayed'), null);
      assert.notEqual(bFirst.body.event_id, aFirst.body.event_id);
      assert.deepEqual(await stored(b), [bFirst.body.event_id]);
      assert.deepEqual(await stored(), [aFirst.body.event_id]);
      assertReplayOf(await send(EVENTS, eventBody(), key, b), bFirst);
      assertReplayOf(await send(EVENTS, eventBody(), key), aFirst);
    });

    it("B can neither be refused (422/409) nor learn anything because of A's use of a key", async () => {
      const b = await server.createCustomer();
      await send(EVENTS, eventBody({ a: 'secret' }), key);
      const store = server.server.ctx.backends.idempotencyStore;
      await store.claim(customer.customerId, `${key}-held`, 'a-hash', { leaseMs: 60_000, ttlMs: 86_400_000 });

      const differentBody = await send(EVENTS, eventBody({ b: 'mine' }), key, b);
      assert.equal(differentBody.status, 202, differentBody.text);
      assert.equal((await send(EVENTS, eventBody(), `${key}-held`, b)).status, 202);
      assert.equal(JSON.stringify(differentBody.body).includes('secret'), false);
    });
  });
});
