import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestServer, type TestServer } from '@triggers/all-in-one/test-server';
import { assertProblem, createSubscription, eventIdsIn, newCustomer, postEvents, receiverPool, runBulkReplayScenario, waitForEventStatus, waitForReplay } from '@triggers/testkit';

/** Slow enough that a 40-event replay takes seconds: room to cancel it half-way and to see the pacing. */
const EVENTS_PER_SECOND = 10;

describe('Bulk replay (POST/GET/DELETE /api/v1/replays) on the embedded default', function () {
  this.timeout(60_000);
  let server: TestServer;
  const receivers = receiverPool();
  before(async () => {
    server = await startTestServer({ TRIGGERS_REPLAY_EVENTS_PER_SECOND: String(EVENTS_PER_SECOND) });
  });
  after(async () => {
    await receivers.closeAll();
    await server?.close();
  });

  const range = () => ({ start_time: new Date(Date.now() - 60_000).toISOString(), end_time: new Date(Date.now() + 60_000).toISOString() });

  it('replays the failed events of one type in a time range once the receiver is back, with progress counts and an idempotent create', async () => {
    await runBulkReplayScenario({ ingest: server, inbox: server, receiver: (options) => receivers.start(options), timeoutMs: 15_000 });
  });

  it('is paced at TRIGGERS_REPLAY_EVENTS_PER_SECOND, and DELETE cancels it part-way (204; nothing more is enqueued)', async () => {
    const customer = await newCustomer(server);
    const hook = await receivers.start();
    await createSubscription(server, customer.apiKey, { event_selector: { type: 'event_type', value: customer.eventType }, webhook_url: hook.url() });
    const posted = await postEvents(server, customer.apiKey, Array.from({ length: 40 }, (_, n) => ({ event_type: customer.eventType, n })));
    for (const e of posted) await waitForEventStatus(server, customer.apiKey, e.event_id, 'delivered');

    const created = await server.request('POST', '/api/v1/replays', { apiKey: customer.apiKey, json: { filter: range() } });
    assert.equal(created.status, 202, created.text);
    const id = created.body.replay_id;
    const startedAt = Date.now();
    const partWay = await waitForReplay(server, customer.apiKey, id, (r) => r.counts.enqueued >= 10, 10_000);
    assert.ok(partWay.counts.enqueued < 40, `paced: ${partWay.counts.enqueued} of 40 enqueued after ${Date.now() - startedAt} ms at ${EVENTS_PER_SECOND}/s`);
    const cancelled = await server.request('DELETE', `/api/v1/replays/${id}`, { apiKey: customer.apiKey });
    assert.equal(cancelled.status, 204, cancelled.text);
    const read = (await server.request('GET', `/api/v1/replays/${id}`, { apiKey: customer.apiKey })).body;
    assert.equal(read.status, 'cancelled');
    assert.ok(read.finished_at);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const later = (await server.request('GET', `/api/v1/replays/${id}`, { apiKey: customer.apiKey })).body;
    assert.ok(later.counts.enqueued <= read.counts.enqueued + 10, 'at most the page in flight is added after the cancel');
    assert.ok(later.counts.enqueued < 40, `stopped: ${later.counts.enqueued} of 40`);
    assert.equal((await server.request('DELETE', `/api/v1/replays/${id}`, { apiKey: customer.apiKey })).status, 204, 'cancelling again is fine');
  });

  it('with workflow_id delivers only to that subscription', async () => {
    const customer = await newCustomer(server);
    const [a, b] = [await receivers.start(), await receivers.start()];
    const selector = { type: 'event_type', value: customer.eventType };
    const subA = await createSubscription(server, customer.apiKey, { event_selector: selector, webhook_url: a.url() });
    await createSubscription(server, customer.apiKey, { event_selector: selector, webhook_url: b.url() });
    const [event] = await postEvents(server, customer.apiKey, [{ event_type: customer.eventType }]);
    await waitForEventStatus(server, customer.apiKey, event.event_id, 'delivered', { until: (e) => e.attempts.length === 2 });
    const created = await server.request('POST', '/api/v1/replays', { apiKey: customer.apiKey, json: { filter: { ...range(), workflow_id: subA.workflow_id } } });
    assert.equal(created.status, 202, created.text);
    const done = await waitForReplay(server, customer.apiKey, created.body.replay_id, (r) => r.settled, 15_000);
    assert.deepEqual(done.counts, { matched: 1, enqueued: 1, processed: 1, unmatched: 0, deliveries: 1, delivered: 1, failed: 0 });
    await a.waitFor(2, 5000);
    assert.equal(b.requests.length, 1, 'the other subscription got nothing more');
  });

  it('on a FIFO subscription counts delivered and failed too (a head retried then failed, a head delivered)', async () => {
    const customer = await newCustomer(server);
    const hook = await receivers.start();
    const [failing, passing] = [customer.eventType, `${customer.eventType}.b`];
    await createSubscription(server, customer.apiKey, {
      event_selector: { type: 'any', selectors: [{ type: 'event_type', value: failing }, { type: 'event_type', value: passing }] },
      webhook_url: hook.url(),
      ordering: 'fifo',
      retry: { max_attempts: 2, schedule_ms: [100] },
    });
    const [a, b] = await postEvents(server, customer.apiKey, [{ event_type: failing }, { event_type: passing }]);
    for (const e of [a, b]) await waitForEventStatus(server, customer.apiKey, e.event_id, 'delivered');
    // One event per replay: a replay pages newest first, so its deliveries are not created in event order (docs).
    hook.script({ status: 503 }, { status: 503 });
    const replay = async (eventType: string) => {
      const created = await server.request('POST', '/api/v1/replays', { apiKey: customer.apiKey, json: { filter: { ...range(), event_type: eventType } } });
      assert.equal(created.status, 202, created.text);
      return waitForReplay(server, customer.apiKey, created.body.replay_id, (r) => r.settled, 15_000);
    };
    const one = { matched: 1, enqueued: 1, processed: 1, unmatched: 0, deliveries: 1 };
    assert.deepEqual((await replay(failing)).counts, { ...one, delivered: 0, failed: 1 }, '503, retried after 100 ms, 503 again: failed');
    assert.deepEqual((await replay(passing)).counts, { ...one, delivered: 1, failed: 0 });
    const replayed = (await hook.waitFor(5)).slice(2);
    assert.deepEqual(replayed.map((r) => [eventIdsIn(r)[0], r.answer.status]), [[a.event_id, 503], [a.event_id, 503], [b.event_id, 200]]);
  });

  describe('errors', () => {
    let apiKey: string;
    before(async () => {
      ({ apiKey } = await newCustomer(server));
    });
    const create = (json: unknown, headers?: Record<string, string>) => server.request('POST', '/api/v1/replays', { apiKey, json, headers });

    const bad: [string, unknown, RegExp][] = [
      ['no filter', {}, /filter/],
      ['no time range', { filter: { status: 'failed' } }, /filter\.start_time/],
      ['no end_time', { filter: { start_time: '2026-01-01T00:00:00.000Z' } }, /filter\.end_time/],
      ['start_time not before end_time', { filter: { start_time: '2026-01-02T00:00:00.000Z', end_time: '2026-01-01T00:00:00.000Z' } }, /filter\.start_time/],
      ['a bad status', { filter: { ...range(), status: 'lost' } }, /filter\.status/],
      ['an unknown field', { filter: { ...range(), colour: 'blue' } }, /colour/],
      ['a workflow_id that is not a UUID', { filter: { ...range(), workflow_id: 'nope' } }, /filter\.workflow_id/],
      ['a subscription that is not yours', { filter: { ...range(), workflow_id: randomUUID() } }, /filter\.workflow_id: no such subscription/],
    ];
    for (const [what, json, detail] of bad) {
      it(`400 invalid_request: ${what}`, async () => {
        const response = await create(json);
        assertProblem(response, 400, 'invalid_request');
        assert.match(response.body.detail, detail);
      });
    }

    it('422 idempotency_key_reused for the same key with another filter; 400 for a malformed key', async () => {
      const key = `k-${randomUUID()}`;
      assert.equal((await create({ filter: range() }, { 'idempotency-key': key })).status, 202);
      assertProblem(await create({ filter: { ...range(), status: 'failed' } }, { 'idempotency-key': key }), 422, 'idempotency_key_reused');
      assertProblem(await create({ filter: range() }, { 'idempotency-key': 'ü' }), 400, 'invalid_request');
    });

    it("404 for an unknown, malformed or another customer's replay (GET and DELETE)", async () => {
      const mine = (await create({ filter: range() })).body.replay_id;
      const other = await newCustomer(server);
      for (const [key, id] of [[other.apiKey, mine], [apiKey, randomUUID()], [apiKey, 'not-an-id']] as const) {
        assertProblem(await server.request('GET', `/api/v1/replays/${id}`, { apiKey: key }), 404, 'not_found');
        assertProblem(await server.request('DELETE', `/api/v1/replays/${id}`, { apiKey: key }), 404, 'not_found');
      }
      assert.equal((await server.request('GET', `/api/v1/replays/${mine}`, { apiKey })).body.status !== 'cancelled', true, "another customer's DELETE changed nothing");
    });

    it('401 without a key', async () => {
      assertProblem(await server.request('POST', '/api/v1/replays', { json: { filter: range() } }), 401, 'unauthorized');
    });
  });
});
