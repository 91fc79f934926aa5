import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '@triggers/all-in-one/test-server';
import { RFC3339_MILLIS, assertProblem, postEvent, postEvents, postEventsInDistinctMillis, type PostedEvent } from '@triggers/testkit';
import type { DeliveryAttempt } from '@triggers/core/domain';
import type { AttemptOutcome } from '@triggers/core/ports';

const iso = (ms: number) => new Date(ms).toISOString();
const ids = (body: { events: { event_id: string }[] }) => body.events.map((e) => e.event_id);

describe('GET /api/v1/inbox', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.close();
  });

  async function inbox(apiKey: string, query = '') {
    return server.request('GET', `/api/v1/inbox${query}`, { apiKey });
  }

  describe('happy', () => {
    it('lists the customer’s events newest first, with every field and millisecond UTC times', async () => {
      const { apiKey, customerId } = await server.createCustomer();
      const posted = await postEventsInDistinctMillis(server, apiKey, [{ event_type: 'order.created', n: 1 }, { n: 2 }, { event_type: 'order.paid', n: 3 }]);

      const response = await inbox(apiKey);
      assert.equal(response.status, 200);
      assert.deepEqual(ids(response.body), posted.map((e) => e.event_id).reverse());
      assert.equal(response.body.total, 3);
      assert.equal(response.body.cursor, null);
      assert.equal(response.body.has_more, false);
      const newest = response.body.events[0];
      assert.deepEqual(Object.keys(newest).sort(), ['customer_id', 'delivery_attempts', 'event_id', 'last_delivery_timestamp', 'payload', 'status', 'timestamp']);
      assert.equal(newest.customer_id, customerId);
      assert.deepEqual(newest.payload, { event_type: 'order.paid', n: 3 });
      assert.match(newest.timestamp, RFC3339_MILLIS);
      assert.equal(newest.timestamp, posted[2].timestamp);
      assert.equal(newest.delivery_attempts, 0);
      assert.equal(newest.last_delivery_timestamp, null);
      assert.ok(['pending', 'unmatched'].includes(newest.status));
    });

    it('answers an empty page for a customer without events', async () => {
      const { apiKey } = await server.createCustomer();
      const response = await inbox(apiKey);
      assert.equal(response.status, 200);
      assert.deepEqual(response.body, { events: [], total: 0, cursor: null, has_more: false });
    });

    it('filters by event_type (exact)', async () => {
      const { apiKey } = await server.createCustomer();
      const [a1, , a2] = await postEvents(server, apiKey, [{ event_type: 'a.one' }, { event_type: 'a.one.more' }, { event_type: 'a.one' }, { other: true }]);
      const response = await inbox(apiKey, '?event_type=a.one');
      assert.equal(response.status, 200);
      assert.deepEqual(ids(response.body), [a2.event_id, a1.event_id]);
      assert.deepEqual(ids((await inbox(apiKey, '?event_type=a.none')).body), []);
    });

    it('filters by status', async () => {
      const { apiKey, customerId } = await server.createCustomer();
      const [delivered, failed, unmatched, pending] = await postEvents(server, apiKey, [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
      const store = server.server.ctx.backends.eventStore;
      await store.setStatus(customerId, delivered.event_id, 'delivered');
      await store.setStatus(customerId, failed.event_id, 'failed');
      await store.setStatus(customerId, unmatched.event_id, 'unmatched');

      assert.deepEqual(ids((await inbox(apiKey, '?status=delivered')).body), [delivered.event_id]);
      assert.deepEqual(ids((await inbox(apiKey, '?status=failed')).body), [failed.event_id]);
      assert.ok(ids((await inbox(apiKey, '?status=unmatched')).body).includes(unmatched.event_id));
      const pendingPage = (await inbox(apiKey, '?status=pending')).body;
      assert.ok(pendingPage.events.every((e: { status: string }) => e.status === 'pending'));
      assert.ok(!ids(pendingPage).some((id) => [delivered.event_id, failed.event_id, unmatched.event_id].includes(id)));
      // A matcher may settle the untouched event meanwhile; it is in exactly one of the two pages.
      const unmatchedNow = ids((await inbox(apiKey, '?status=unmatched')).body);
      assert.ok(ids(pendingPage).includes(pending.event_id) || unmatchedNow.includes(pending.event_id));
    });

    it('combines filters', async () => {
      const { apiKey, customerId } = await server.createCustomer();
      const [x, y] = await postEvents(server, apiKey, [{ event_type: 'combo' }, { event_type: 'combo' }, { event_type: 'other' }]);
      await server.server.ctx.backends.eventStore.setStatus(customerId, x.event_id, 'delivered');
      await server.server.ctx.backends.eventStore.setStatus(customerId, y.event_id, 'failed');
      assert.deepEqual(ids((await inbox(apiKey, '?event_type=combo&status=delivered')).body), [x.event_id]);
    });

    describe('time bounds', () => {
      let apiKey: string;
      let first: PostedEvent;
      let second: PostedEvent;
      let t1: number;
      let t2: number;
      before(async () => {
        ({ apiKey } = await server.createCustomer());
        [first, second] = await postEventsInDistinctMillis(server, apiKey, [{ n: 1 }, { n: 2 }]);
        t1 = Date.parse(first.timestamp);
        t2 = Date.parse(second.timestamp);
        assert.ok(t2 > t1);
      });
      const q = (params: Record<string, string>) => `?${new URLSearchParams(params)}`;

      it('start_time is inclusive', async () => {
        assert.deepEqual(ids((await inbox(apiKey, q({ start_time: iso(t1) }))).body), [second.event_id, first.event_id]);
        assert.deepEqual(ids((await inbox(apiKey, q({ start_time: iso(t1 + 1) }))).body), [second.event_id]);
        assert.deepEqual(ids((await inbox(apiKey, q({ start_time: iso(t2 + 1) }))).body), []);
      });

      it('end_time is exclusive', async () => {
        assert.deepEqual(ids((await inbox(apiKey, q({ end_time: iso(t2) }))).body), [first.event_id]);
        assert.deepEqual(ids((await inbox(apiKey, q({ end_time: iso(t2 + 1) }))).body), [second.event_id, first.event_id]);
        assert.deepEqual(ids((await inbox(apiKey, q({ end_time: iso(t1) }))).body), []);
      });

      it('a one-millisecond window holds exactly the event of that millisecond', async () => {
        assert.deepEqual(ids((await inbox(apiKey, q({ start_time: iso(t1), end_time: iso(t1 + 1) }))).body), [first.event_id]);
      });

      it('accepts offsets and sub-millisecond fractions, exactly', async () => {
        const withOffset = new Date(t1 + 2 * 3600_000).toISOString().replace('Z', '+02:00');
        assert.deepEqual(ids((await inbox(apiKey, q({ start_time: withOffset, end_time: iso(t2) }))).body), [first.event_id]);
        // Half a millisecond after the first event: it is excluded as a start, included as an end.
        const halfPast = iso(t1).replace('Z', '500Z');
        assert.deepEqual(ids((await inbox(apiKey, q({ start_time: halfPast }))).body), [second.event_id]);
        assert.deepEqual(ids((await inbox(apiKey, q({ end_time: halfPast }))).body), [first.event_id]);
      });
    });

    it('honours limit 1 and 1000, and pages 100 by default', async () => {
      const { apiKey } = await server.createCustomer();
      const posted = await postEvents(server, apiKey, Array.from({ length: 101 }, (_, n) => ({ n })));
      const defaultPage = (await inbox(apiKey)).body;
      assert.equal(defaultPage.events.length, 100);
      assert.equal(defaultPage.total, 100);
      assert.equal(defaultPage.has_more, true);
      assert.equal(typeof defaultPage.cursor, 'string');
      assert.equal(defaultPage.events[0].event_id, posted[100].event_id);

      const one = (await inbox(apiKey, '?limit=1')).body;
      assert.deepEqual(ids(one), [posted[100].event_id]);
      assert.equal(one.has_more, true);
      const all = (await inbox(apiKey, '?limit=1000')).body;
      assert.equal(all.events.length, 101);
      assert.equal(all.has_more, false);
      assert.equal(all.cursor, null);
    });
  });

  describe('cursor', () => {
    it('visits every pre-existing event exactly once while new events arrive between pages', async () => {
      const { apiKey } = await server.createCustomer();
      const existing = (await postEvents(server, apiKey, Array.from({ length: 25 }, (_, n) => ({ event_type: 'page.me', n })))).map((e) => e.event_id);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = `?event_type=page.me&limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const response = await inbox(apiKey, query);
        assert.equal(response.status, 200, response.text);
        seen.push(...ids(response.body));
        assert.equal(response.body.total, response.body.events.length);
        assert.equal(response.body.has_more, response.body.cursor !== null);
        cursor = response.body.cursor;
        pages++;
        // New events land between pages (a single one and a batch, in the same type).
        await postEvent(server, apiKey, { event_type: 'page.me', late: pages });
        await postEvents(server, apiKey, [{ event_type: 'page.me', late: pages }, { event_type: 'page.me', late: pages }]);
      } while (cursor !== null);

      assert.equal(pages, 4);
      assert.equal(new Set(seen).size, seen.length, 'no event twice');
      assert.deepEqual(seen, [...existing].reverse(), 'each pre-existing event once, newest first');
    });

    it('refuses a cursor that is not one of ours', async () => {
      const { apiKey } = await server.createCustomer();
      assertProblem(await inbox(apiKey, '?cursor=not-a-cursor'), 400, 'invalid_request');
      assertProblem(await inbox(apiKey, '?cursor=%7B%7D'), 400, 'invalid_request');
      assertProblem(await inbox(apiKey, `?cursor=${Buffer.from('{"before":1}').toString('base64url')}`), 400, 'invalid_request');
    });
  });

  describe('errors', () => {
    let apiKey: string;
    before(async () => {
      ({ apiKey } = await server.createCustomer());
    });

    const bad: [string, string][] = [
      ['unknown parameter', '?colour=blue'],
      ['repeated parameter', '?limit=1&limit=2'],
      ['limit 0', '?limit=0'],
      ['limit 1001', '?limit=1001'],
      ['negative limit', '?limit=-1'],
      ['fractional limit', '?limit=1.5'],
      ['exponent limit', '?limit=1e2'],
      ['empty limit', '?limit='],
      ['non-numeric limit', '?limit=ten'],
      ['unknown status', '?status=lost'],
      ['date without time', '?start_time=2026-01-15'],
      ['time without offset', '?start_time=2026-01-15T10:30:00'],
      ['not a time', '?end_time=yesterday'],
      ['impossible date', '?end_time=2026-02-30T10:30:00Z'],
      ['start equal to end', '?start_time=2026-01-15T10:30:00.000Z&end_time=2026-01-15T10:30:00.000Z'],
      ['start after end', '?start_time=2026-01-16T00:00:00Z&end_time=2026-01-15T00:00:00Z'],
      ['empty event_type', '?event_type='],
    ];
    for (const [what, query] of bad) {
      it(`400 invalid_request: ${what}`, async () => {
        const response = await inbox(apiKey, query);
        assertProblem(response, 400, 'invalid_request');
        assert.ok(response.headers.get('x-request-id'));
      });
    }

    it('names the offending parameter', async () => {
      assert.match((await inbox(apiKey, '?colour=blue')).body.detail, /colour/);
      assert.match((await inbox(apiKey, '?limit=0')).body.detail, /limit/);
      assert.match((await inbox(apiKey, '?start_time=2026-01-16T00:00:00Z&end_time=2026-01-15T00:00:00Z')).body.detail, /start_time/);
    });
  });
});

describe('GET /api/v1/events/{event_id}', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.close();
  });

  it('answers the event with an empty attempts list before any delivery', async () => {
    const { apiKey, customerId } = await server.createCustomer();
    const posted = await postEvent(server, apiKey, { event_type: 'one', amount: 5 });
    const response = await server.request('GET', `/api/v1/events/${posted.event_id}`, { apiKey });
    assert.equal(response.status, 200);
    assert.equal(response.body.event_id, posted.event_id);
    assert.equal(response.body.customer_id, customerId);
    assert.deepEqual(response.body.payload, { event_type: 'one', amount: 5 });
    assert.equal(response.body.timestamp, posted.timestamp);
    assert.deepEqual(response.body.attempts, []);
  });

  it('lists the attempts oldest first, with the delivery count and last delivery time', async () => {
    const { apiKey, customerId } = await server.createCustomer();
    const posted = await postEvent(server, apiKey, { event_type: 'two' });
    const deliveries = server.server.ctx.backends.deliveryStore;
    const workflowId = randomUUID();
    const base = Date.parse(posted.timestamp);
    const deliveryId = `msg_${randomUUID().replaceAll('-', '')}`;
    await deliveries.createDeliveries([{ deliveryId, eventId: posted.event_id, customerId, workflowId, createdAt: base }]);
    const attempt = { eventId: posted.event_id, customerId, workflowId, deliveryId, responseBody: 'oops' };
    const record = async (a: Omit<DeliveryAttempt, keyof typeof attempt>, next: AttemptOutcome['next']) => {
      assert.equal(await deliveries.incrementAttempts(deliveryId, a.attempt - 1, a.timestamp), true);
      await deliveries.recordAttempts([{ deliveryId, attempt: { ...attempt, ...a }, next, now: a.timestamp }]);
    };
    await record({ attempt: 1, status: 'retrying', statusCode: 503, error: 'HTTP 503', durationMs: 12, timestamp: base + 10 }, { status: 'retrying', nextAttemptAt: base + 15 });
    await record({ attempt: 2, status: 'retrying', statusCode: null, error: 'timed out', durationMs: 30000, timestamp: base + 20 }, { status: 'retrying', nextAttemptAt: base + 25 });
    await record({ attempt: 3, status: 'succeeded', statusCode: 200, error: null, durationMs: 7, timestamp: base + 30 }, { status: 'succeeded' });

    const body = (await server.request('GET', `/api/v1/events/${posted.event_id}`, { apiKey })).body;
    assert.equal(body.delivery_attempts, 3);
    assert.equal(body.last_delivery_timestamp, iso(base + 30));
    assert.deepEqual(body.attempts, [
      { workflow_id: workflowId, attempt: 1, status: 'retrying', status_code: 503, error: 'HTTP 503', duration_ms: 12, timestamp: iso(base + 10) },
      { workflow_id: workflowId, attempt: 2, status: 'retrying', status_code: null, error: 'timed out', duration_ms: 30000, timestamp: iso(base + 20) },
      { workflow_id: workflowId, attempt: 3, status: 'succeeded', status_code: 200, error: null, duration_ms: 7, timestamp: iso(base + 30) },
    ]);
    // The same event in the inbox carries the same counters.
    const listed = (await server.request('GET', '/api/v1/inbox', { apiKey })).body.events[0];
    assert.equal(listed.delivery_attempts, 3);
    assert.equal(listed.last_delivery_timestamp, iso(base + 30));
  });

  it('reads an id written in upper case', async () => {
    const { apiKey } = await server.createCustomer();
    const posted = await postEvent(server, apiKey, { n: 1 });
    const response = await server.request('GET', `/api/v1/events/${posted.event_id.toUpperCase()}`, { apiKey });
    assert.equal(response.status, 200);
    assert.equal(response.body.event_id, posted.event_id);
  });

  it('404 not_found for an unknown or malformed id, all alike', async () => {
    const { apiKey } = await server.createCustomer();
    const answers = [];
    // (`/api/v1/events/batch` is a path of its own, POST only: GET there is 405, see http-contract.test.ts.)
    for (const id of [randomUUID(), '01900000-0000-7000-8000-000000000000', 'not-an-id', '123', 'batches']) {
      const response = await server.request('GET', `/api/v1/events/${id}`, { apiKey });
      assertProblem(response, 404, 'not_found');
      answers.push(response.body);
    }
    for (const answer of answers) assert.deepEqual(answer, answers[0]);
  });
});
