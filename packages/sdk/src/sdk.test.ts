import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestServer, type TestServer } from '@triggers/all-in-one/test-server';
import { startTcpProxy, startWebhookReceiver, verifySignature, type TcpProxy, type WebhookReceiver } from '@triggers/testkit';
import { Triggers, TriggersError, WebhookVerificationError, signWebhook, verifyWebhook, type InboxEvent } from './index.ts';

/** The SDK against a real all-in-one on loopback: no HTTP is mocked. */
describe('TypeScript SDK (@triggers/sdk)', function () {
  this.timeout(60_000);
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.close();
  });

  async function newClient(options: { baseUrl?: string; timeoutMs?: number; maxRetries?: number } = {}) {
    const customer = await server.createCustomer();
    const client = new Triggers({ baseUrl: options.baseUrl ?? server.url, apiKey: customer.apiKey, timeoutMs: options.timeoutMs, retry: { maxRetries: options.maxRetries ?? 3, baseDelayMs: 100 } });
    return { client, customer };
  }

  async function allEvents(client: Triggers): Promise<InboxEvent[]> {
    const events: InboxEvent[] = [];
    for await (const event of client.inbox.iterate({ limit: 1000 })) events.push(event);
    return events;
  }

  describe('events.send', () => {
    let proxy: TcpProxy;
    before(async () => {
      proxy = await startTcpProxy({ host: '127.0.0.1', port: server.server.port });
    });
    after(async () => {
      await proxy?.close();
    });

    it('retries after the connection dropped with the 202 on its way, and the event exists once', async () => {
      const { client } = await newClient({ baseUrl: proxy.url });
      const dropped = proxy.dropNextResponse();
      const accepted = await client.events.send({ event_type: 'order.created', order_id: 7 });
      await dropped; // the first answer really was lost: the SDK's call resolved through its retry
      const events = await allEvents(client);
      assert.equal(events.length, 1, `one event, not ${events.length}`);
      assert.equal(events[0].event_id, accepted.event_id);
      assert.deepEqual(events[0].payload, { event_type: 'order.created', order_id: 7 });
    });

    it('with the same idempotency key twice creates one event (the key is what makes the retry safe)', async () => {
      const { client } = await newClient();
      const first = await client.events.send({ n: 1 }, { idempotencyKey: 'my-key-1' });
      const second = await client.events.send({ n: 1 }, { idempotencyKey: 'my-key-1' });
      assert.equal(second.event_id, first.event_id);
      assert.equal((await allEvents(client)).length, 1);
    });

    it('a bad payload is a TriggersError with the code, status and request id', async () => {
      const { client } = await newClient();
      const error = await client.events.send('not an object' as never).catch((e: unknown) => e);
      assert.ok(error instanceof TriggersError);
      assert.equal(error.code, 'invalid_request');
      assert.equal(error.status, 400);
      assert.match(error.requestId ?? '', /\S/);
      assert.equal((await allEvents(client)).length, 0);
    });

    it('waits out a 429 for its Retry-After and then succeeds', async () => {
      const { client, customer } = await newClient();
      const patched = await server.request('PATCH', `/admin/customers/${customer.customerId}`, { admin: true, json: { rate_limit_per_second: 1 } });
      assert.equal(patched.status, 200, patched.text);
      await new Promise((resolve) => setTimeout(resolve, 1100)); // the limit applies within 1 s
      await client.events.send({ n: 1 });
      const started = Date.now();
      const second = await client.events.send({ n: 2 });
      const waited = Date.now() - started;
      assert.ok(waited >= 500, `answered after ${waited} ms: the 429 was not waited out`);
      assert.equal((await allEvents(client)).length, 2);
      assert.ok(second.event_id);
    });

    it('gives up after the timeout with code "timeout" when the server does not answer', async () => {
      const sockets = new Set<import('node:net').Socket>();
      const silent = http.createServer(() => undefined); // reads the request, never answers
      silent.on('connection', (s) => sockets.add(s));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      try {
        const client = new Triggers({ baseUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, apiKey: 'sk_test_x', timeoutMs: 200, retry: { maxRetries: 1, baseDelayMs: 50 } });
        const started = Date.now();
        const error = await client.inbox.list().catch((e: unknown) => e);
        assert.ok(error instanceof TriggersError, String(error));
        assert.equal(error.code, 'timeout');
        assert.equal(error.status, 0);
        assert.ok(Date.now() - started >= 400, 'two attempts of 200 ms');
      } finally {
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => silent.close(() => resolve()));
      }
    });
  });

  describe('events.sendBatch', () => {
    it('sends 1,201 payloads in requests of at most 500 and returns them accepted in order', async () => {
      const { client } = await newClient();
      const payloads = Array.from({ length: 1201 }, (_, i) => ({ event_type: 'bulk', i }));
      const accepted = await client.events.sendBatch(payloads);
      assert.equal(accepted.length, 1201);
      assert.equal(new Set(accepted.map((e) => e.event_id)).size, 1201);
      const stored = await allEvents(client);
      assert.equal(stored.length, 1201);
      const byId = new Map(stored.map((e) => [e.event_id, e.payload.i]));
      accepted.forEach((e, i) => assert.equal(byId.get(e.event_id), i));
    });

    it('splits a request the server finds larger than the burst (413 with max_events) and keeps input order', async () => {
      const { client, customer } = await newClient();
      const patched = await server.request('PATCH', `/admin/customers/${customer.customerId}`, { admin: true, json: { rate_limit_per_second: 40 } });
      assert.equal(patched.status, 200, patched.text);
      await new Promise((resolve) => setTimeout(resolve, 1100)); // the limit applies within 1 s
      const payloads = Array.from({ length: 130 }, (_, i) => ({ event_type: 'bulk', i }));
      const accepted = await client.events.sendBatch(payloads, { idempotencyKey: 'split-once' });
      assert.equal(accepted.length, 130);
      const stored = await allEvents(client);
      assert.equal(stored.length, 130, 'every payload stored once: the refused 130-event request stored nothing');
      const byId = new Map(stored.map((e) => [e.event_id, e.payload.i]));
      accepted.forEach((e, i) => assert.equal(byId.get(e.event_id), i));
      // The same call again with the same key derives the same request keys: nothing new is stored.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const again = await client.events.sendBatch(payloads, { idempotencyKey: 'split-once' });
      assert.deepEqual(again.map((e) => e.event_id), accepted.map((e) => e.event_id));
      assert.equal((await allEvents(client)).length, 130);
    });

    it('refuses the whole chunk with the per-item errors', async () => {
      const { client } = await newClient();
      const error = await client.events.sendBatch([{ ok: 1 }, 5 as never]).catch((e: unknown) => e);
      assert.ok(error instanceof TriggersError);
      assert.equal(error.status, 400);
      assert.equal(error.problem?.errors?.[0]?.index, 1);
      assert.equal((await allEvents(client)).length, 0);
    });
  });

  describe('inbox.iterate', () => {
    it('visits every event once while new events keep arriving', async () => {
      const { client } = await newClient();
      const seeded = (await client.events.sendBatch(Array.from({ length: 240 }, (_, i) => ({ i })))).map((e) => e.event_id);
      const seen: string[] = [];
      let arrivals = 0;
      for await (const event of client.inbox.iterate({ limit: 25 })) {
        seen.push(event.event_id);
        if (seen.length % 25 === 1) {
          // New events land between pages, newer than every page still to come.
          await client.events.sendBatch([{ late: arrivals++ }, { late: arrivals++ }]);
        }
      }
      assert.equal(new Set(seen).size, seen.length, 'no event twice');
      assert.deepEqual([...seeded].sort(), seen.filter((id) => seeded.includes(id)).sort(), 'every seeded event');
      assert.ok(arrivals >= 18, `${arrivals} events arrived during the walk`);
    });
  });

  describe('events.get / replay and subscriptions', () => {
    let receiver: WebhookReceiver;
    before(async () => {
      receiver = await startWebhookReceiver();
    });
    after(async () => {
      await receiver?.close();
    });

    it('creates, reads, lists, updates, disables, rotates and deletes a subscription', async () => {
      const { client } = await newClient();
      const created = await client.subscriptions.create({ event_selector: { type: 'event_type', value: 'order.*' }, webhook_url: receiver.url('/crud') });
      assert.match(created.secret, /^whsec_/);
      assert.equal((await client.subscriptions.get(created.workflow_id)).webhook_url, receiver.url('/crud'));
      const listed = [];
      for await (const s of client.subscriptions.iterate()) listed.push(s.workflow_id);
      assert.deepEqual(listed, [created.workflow_id]);
      assert.equal((await client.subscriptions.update(created.workflow_id, { description: 'orders' })).description, 'orders');
      assert.equal((await client.subscriptions.disable(created.workflow_id)).status, 'disabled');
      const rotated = await client.subscriptions.rotateSecret(created.workflow_id);
      assert.notEqual(rotated.secret, created.secret);
      await client.subscriptions.delete(created.workflow_id);
      const gone = await client.subscriptions.get(created.workflow_id).catch((e: unknown) => e);
      assert.ok(gone instanceof TriggersError);
      assert.equal(gone.code, 'not_found');
      assert.equal(gone.status, 404);
    });

    it('a delivery verifies with verifyWebhook (and a tampered one does not); get shows the attempt; replay delivers again', async () => {
      const { client } = await newClient();
      const created = await client.subscriptions.create({ event_selector: { type: 'event_type', value: 'invoice.paid' }, webhook_url: receiver.url('/verify') });
      const before = receiver.requests.length;
      const { event_id } = await client.events.send({ event_type: 'invoice.paid', amount: 12 });
      const [request] = (await receiver.waitFor(before + 1, 10_000)).slice(before);
      const body = (await verifyWebhook(request.body, request.headers as Record<string, string>, created.secret)) as { event_id: string }[];
      assert.equal(body[0].event_id, event_id);
      await assert.rejects(verifyWebhook(request.body.replace('12', '13'), request.headers as Record<string, string>, created.secret), WebhookVerificationError);
      await assert.rejects(verifyWebhook(request.body, request.headers as Record<string, string>, 'whsec_' + btoa('another secret, 24 bytes')), WebhookVerificationError);

      let event = await client.events.get(event_id);
      for (let i = 0; i < 50 && event.attempts.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        event = await client.events.get(event_id);
      }
      assert.equal(event.attempts[0]?.status_code, 200);
      await client.events.replay(event_id);
      const [replayed] = (await receiver.waitFor(before + 2, 10_000)).slice(before + 1);
      assert.notEqual(replayed.headers['webhook-id'], request.headers['webhook-id'], 'a replay is a new delivery');
    });
  });

  describe('replays', () => {
    let receiver: WebhookReceiver;
    let proxy: TcpProxy;
    before(async () => {
      receiver = await startWebhookReceiver();
      proxy = await startTcpProxy({ host: '127.0.0.1', port: server.server.port });
    });
    after(async () => {
      await proxy?.close();
      await receiver?.close();
    });

    /** A customer with a subscription for `order.paid` at `hook`, and `count` of its events delivered once. */
    async function deliveredEvents(hook: string, count: number, baseUrl?: string) {
      const { client } = await newClient({ baseUrl });
      const startTime = new Date(Date.now() - 1000).toISOString();
      await client.subscriptions.create({ event_selector: { type: 'event_type', value: 'order.paid' }, webhook_url: receiver.url(hook) });
      const sent = await client.events.sendBatch([...Array.from({ length: count }, (_, n) => ({ event_type: 'order.paid', n })), { event_type: 'order.refunded' }]);
      await waitForDeliveries(hook, count);
      return { client, startTime, eventIds: sent.slice(0, count).map((e) => e.event_id) };
    }

    async function waitForDeliveries(hook: string, count: number): Promise<string[]> {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const ids = receiver.requests.filter((r) => r.path === hook).flatMap((r) => (JSON.parse(r.body) as { event_id: string }[]).map((e) => e.event_id));
        if (ids.length >= count) return ids;
        if (Date.now() > deadline) assert.fail(`${ids.length} of ${count} deliveries to ${hook}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }

    it('create, wait and get: the filter’s events are delivered again and counted; the same idempotency key answers with the same job; cancel and a 404', async () => {
      const { client, startTime, eventIds } = await deliveredEvents('/replay-all', 3);
      const filter = { start_time: startTime, end_time: new Date(Date.now() + 60_000).toISOString(), event_type: 'order.paid' };
      const created = await client.replays.create({ filter }, { idempotencyKey: 'replay-key-1' });
      assert.equal(created.status, 'running');
      assert.deepEqual(created.filter, filter);
      assert.equal((await client.replays.create({ filter }, { idempotencyKey: 'replay-key-1' })).replay_id, created.replay_id);

      const finished = await client.replays.wait(created.replay_id, { intervalMs: 100 });
      assert.equal(finished.status, 'completed');
      assert.deepEqual([finished.counts.matched, finished.counts.enqueued], [3, 3]);
      const delivered = await waitForDeliveries('/replay-all', 6);
      assert.deepEqual(delivered.slice(3).sort(), [...eventIds].sort(), 'each event once more, the other type not at all');
      const read = await client.replays.wait(created.replay_id, { intervalMs: 100, until: 'settled' });
      assert.equal(read.settled, true);
      assert.deepEqual(read.counts, { matched: 3, enqueued: 3, processed: 3, unmatched: 0, deliveries: 3, delivered: 3, failed: 0 });

      assert.equal(await client.replays.cancel(created.replay_id), undefined, 'cancelling a finished job is a 204 too');
      assert.equal((await client.replays.get(created.replay_id)).status, 'completed');
      const unknown = await client.replays.get('00000000-0000-4000-8000-000000000000').catch((e: unknown) => e);
      assert.ok(unknown instanceof TriggersError);
      assert.deepEqual([unknown.status, unknown.code], [404, 'not_found']);
    });

    it('a filter ending before it starts is a 400 TriggersError with the detail', async () => {
      const { client } = await newClient();
      const error = await client.replays.create({ filter: { start_time: '2026-03-02T00:00:00Z', end_time: '2026-03-01T00:00:00Z' } }).catch((e: unknown) => e);
      assert.ok(error instanceof TriggersError);
      assert.deepEqual([error.status, error.code], [400, 'invalid_request']);
      assert.match(error.detail, /filter\.start_time: must be before end_time/);
    });

    it('retries a create whose 202 was lost and starts one job (its generated Idempotency-Key)', async () => {
      const { client, startTime } = await deliveredEvents('/replay-lost', 2, proxy.url);
      const dropped = proxy.dropNextResponse();
      const created = await client.replays.create({ filter: { start_time: startTime, end_time: new Date(Date.now() + 60_000).toISOString(), event_type: 'order.paid' } });
      await dropped;
      await client.replays.wait(created.replay_id, { intervalMs: 100 });
      await waitForDeliveries('/replay-lost', 4);
      await new Promise((resolve) => setTimeout(resolve, 1500)); // a second job would deliver within this
      assert.equal((await waitForDeliveries('/replay-lost', 4)).length, 4, 'the events were replayed once, not twice');
    });
  });

  describe('events.stream', () => {
    let proxy: TcpProxy;
    before(async () => {
      proxy = await startTcpProxy({ host: '127.0.0.1', port: server.server.port });
    });
    after(async () => {
      await proxy?.close();
    });

    it('reconnects by itself after the connection is cut and resumes without gap or duplicate', async () => {
      const { client, customer } = await newClient({ baseUrl: proxy.url });
      const direct = new Triggers({ baseUrl: server.url, apiKey: customer.apiKey });
      const controller = new AbortController();
      const received: string[] = [];
      let opened = 0;
      let disconnects = 0;
      const consumer = (async () => {
        for await (const event of client.events.stream({ signal: controller.signal, onOpen: () => opened++, onDisconnect: () => disconnects++ })) received.push(event.event_id);
      })();
      while (opened === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      const sent: string[] = [];
      for (let i = 0; i < 60; i++) {
        sent.push((await direct.events.send({ i })).event_id);
        if (i === 25) {
          await proxy.cut(); // every connection through the proxy drops; new ones are refused for a while
          setTimeout(() => void proxy.restore(), 400);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const deadline = Date.now() + 10_000;
      while (received.at(-1) !== sent.at(-1) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      controller.abort();
      await consumer;
      assert.ok(disconnects >= 1 && opened >= 2, `opened ${opened}, disconnected ${disconnects}`);
      assert.deepEqual(received, sent, 'every event once, in order, across the reconnect');
    });

    it('with lastEventId replays a backlog larger than one store page, in order', async () => {
      const { client } = await newClient();
      const sent = (await client.events.sendBatch(Array.from({ length: 350 }, (_, i) => ({ i })))).map((e) => e.event_id);
      const controller = new AbortController();
      const received: string[] = [];
      for await (const event of client.events.stream({ lastEventId: sent[0], signal: controller.signal })) {
        received.push(event.event_id);
        if (received.length === sent.length - 1) controller.abort();
      }
      assert.deepEqual(received, sent.slice(1));
    });
  });

  describe('signWebhook', () => {
    it('produces the header the standardwebhooks package verifies', async () => {
      const secret = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
      const body = JSON.stringify([{ event_id: 'e', payload: { a: 1 } }]);
      const timestamp = Math.floor(Date.now() / 1000);
      const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(timestamp), 'webhook-signature': await signWebhook(secret, 'msg_1', timestamp, body) };
      assert.deepEqual(verifySignature({ headers, body }, secret), JSON.parse(body));
    });
  });
});
