import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '@triggers/all-in-one/test-server';
import { assertFifo, createSubscription, eventIdsIn, newCustomer, postEvent, postEvents, receiverPool, sleep, subscribe, waitForEventStatus } from '@triggers/testkit';

/**
 * Issue 14, item 1: `ordering: "fifo"` on the embedded default (SQLite stores and queue). The
 * receiver answers slowly, so deliveries sent in parallel would overlap; it records every request.
 * `assertFifo` checks what the receiver saw: the events in order of acceptance (UUIDv7 order), no
 * request before the previous one was answered, and nothing sent again once it succeeded.
 */
describe('FIFO per subscription (issue 14), embedded', function () {
  const receivers = receiverPool();
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await receivers.closeAll();
  });

  it('a retrying head (500, 500, then 200) holds the ones behind it; then all go in order, one at a time; a non-FIFO subscription beside it is not slowed', async function () {
    this.timeout(40_000);
    server = await startTestServer({ TRIGGERS_RETRY_BASE_MS: '400', TRIGGERS_RETRY_MAX_DELAY_MS: '1000', TRIGGERS_MAX_ATTEMPTS: '5' });
    const fifoCustomer = await newCustomer(server, 'FIFO');
    const other = await newCustomer(server, 'Other');
    const fifoHook = await receivers.start({ answers: [{ status: 500 }, { status: 500 }], otherwise: { status: 200, delayMs: 30 } });
    const otherHook = await receivers.start();
    const created = await createSubscription(server, fifoCustomer.apiKey, {
      event_selector: { type: 'event_type', value: fifoCustomer.eventType },
      webhook_url: fifoHook.url(),
      ordering: 'fifo',
    });
    assert.equal(created.ordering, 'fifo');
    await subscribe(server, other.apiKey, other.eventType, otherHook.url());

    const posted: string[] = [];
    for (const chunk of [3, 5, 4]) posted.push(...(await postEvents(server, fifoCustomer.apiKey, Array.from({ length: chunk }, (_, n) => ({ event_type: fifoCustomer.eventType, n })))).map((e) => e.event_id));
    await fifoHook.waitFor(2, 10_000); // the head failed twice: it is waiting for its third attempt

    // The head's retries and the 11 held behind it take no slot another subscription needs.
    const started = Date.now();
    const { event_id: otherId } = await postEvent(server, other.apiKey, { event_type: other.eventType });
    const [otherRequest] = await otherHook.waitFor(1, 5000);
    assert.deepEqual(eventIdsIn(otherRequest), [otherId]);
    assert.ok(otherRequest.receivedAt - started < 1000, `a non-FIFO subscription waited ${otherRequest.receivedAt - started} ms beside a retrying FIFO head`);

    const requests = await fifoHook.waitFor(posted.length + 2, 25_000);
    assertFifo(requests, posted);
    assert.deepEqual(eventIdsIn(requests[0]), eventIdsIn(requests[2]), 'the first two requests were the head, failing');
    const sorted = [...posted].sort();
    assert.deepEqual(eventIdsIn(requests[0]), [sorted[0]]);
    for (const id of posted) await waitForEventStatus(server, fifoCustomer.apiKey, id, 'delivered', { timeoutMs: 5000 });
  });

  it('a head that finally fails (every attempt 503) lets the next one go; the rest keep their order', async function () {
    this.timeout(30_000);
    server = await startTestServer({ TRIGGERS_RETRY_BASE_MS: '200', TRIGGERS_RETRY_MAX_DELAY_MS: '400', TRIGGERS_MAX_ATTEMPTS: '3' });
    const customer = await newCustomer(server, 'FIFO');
    const hook = await receivers.start({ answers: [{ status: 503 }, { status: 503 }, { status: 503 }], otherwise: { status: 200, delayMs: 20 } });
    await createSubscription(server, customer.apiKey, { event_selector: { type: 'event_type', value: customer.eventType }, webhook_url: hook.url(), ordering: 'fifo' });
    const posted = (await postEvents(server, customer.apiKey, Array.from({ length: 6 }, (_, n) => ({ event_type: customer.eventType, n })))).map((e) => e.event_id);
    const head = [...posted].sort()[0];
    const requests = await hook.waitFor(posted.length + 2, 20_000);
    assertFifo(requests, posted);
    assert.deepEqual(requests.slice(0, 3).map((r) => eventIdsIn(r)), [[head], [head], [head]], 'three attempts of the head first');
    await waitForEventStatus(server, customer.apiKey, head, 'failed', { timeoutMs: 5000 });
    for (const id of posted.filter((id) => id !== head)) await waitForEventStatus(server, customer.apiKey, id, 'delivered', { timeoutMs: 5000 });
  });

  it('with batching, each request carries the next events in order, inside and across batches', async function () {
    this.timeout(30_000);
    server = await startTestServer();
    const customer = await newCustomer(server, 'FIFO batches');
    // Slow answers, so events pile up behind the head and the next batches fill.
    const hook = await receivers.start({ otherwise: { status: 200, delayMs: 300 } });
    await createSubscription(server, customer.apiKey, {
      event_selector: { type: 'event_type', value: customer.eventType },
      webhook_url: hook.url(),
      ordering: 'fifo',
      batch: { max_events: 4, window_ms: 50 },
    });
    const posted: string[] = [];
    for (let i = 0; i < 4; i++) {
      posted.push(...(await postEvents(server, customer.apiKey, Array.from({ length: 5 }, (_, n) => ({ event_type: customer.eventType, n })))).map((e) => e.event_id));
      await sleep(100);
    }
    const deadline = Date.now() + 20_000;
    while (new Set(hook.requests.flatMap((r) => eventIdsIn(r))).size < posted.length && Date.now() < deadline) await sleep(100);
    await sleep(300);
    const requests = [...hook.requests];
    assertFifo(requests, posted);
    assert.ok(requests.every((r) => eventIdsIn(r).length <= 4), 'at most max_events per request');
    assert.ok(requests.some((r) => eventIdsIn(r).length > 1), `the backlog went out in batches (sizes ${requests.map((r) => eventIdsIn(r).length).join(', ')})`);
  });

  it('a FIFO head refused by its origin\'s fair share waits for the slot (held, not put back), as unordered deliveries do', async function () {
    this.timeout(30_000);
    server = await startTestServer({ TRIGGERS_DELIVERER_MAX_PER_ORIGIN: '1' });
    const deferred = async () => Number(/^triggers_delivery_deferred_by_fair_share_total (\d+)/m.exec((await server!.request('GET', '/metrics')).text)?.[1]);
    const customer = await newCustomer(server, 'FIFO share');
    // One origin for both subscriptions, one request at a time, each answered in 300 ms.
    const hook = await receivers.start({ otherwise: { status: 200, delayMs: 300 } });
    const [ordered, unordered] = [customer.eventType, `${customer.eventType}.u`];
    await createSubscription(server, customer.apiKey, { event_selector: { type: 'event_type', value: ordered }, webhook_url: hook.url('/fifo'), ordering: 'fifo' });
    await createSubscription(server, customer.apiKey, { event_selector: { type: 'event_type', value: unordered }, webhook_url: hook.url('/other') });
    const before = await deferred();
    await postEvents(server, customer.apiKey, [{ event_type: unordered }, { event_type: unordered }]);
    await hook.waitFor(1);
    const posted = (await postEvents(server, customer.apiKey, Array.from({ length: 3 }, (_, n) => ({ event_type: ordered, n })))).map((e) => e.event_id);
    const requests = await hook.waitFor(5, 20_000);
    assertFifo(requests.filter((r) => r.path === '/fifo'), posted);
    assert.equal(await deferred(), before, 'no delivery was put back for its fair-share turn');
  });

  it('PATCH turns FIFO on and off; a bad value is 400 and changes nothing', async function () {
    server = await startTestServer();
    const customer = await newCustomer(server, 'FIFO patch');
    const hook = await receivers.start();
    const created = await subscribe(server, customer.apiKey, customer.eventType, hook.url());
    assert.equal(created.ordering, 'unordered', 'the default');
    const path = `/api/v1/subscriptions/${created.workflow_id}`;
    const apiKey = customer.apiKey;
    const on = await server.request('PATCH', path, { json: { ordering: 'fifo' }, apiKey });
    assert.equal(on.status, 200);
    assert.equal(on.body.ordering, 'fifo');
    const bad = await server.request('PATCH', path, { json: { ordering: 'lifo' }, apiKey });
    assert.equal(bad.status, 400);
    assert.match(bad.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal((await server.request('GET', path, { apiKey })).body.ordering, 'fifo', 'a refused change changes nothing');
    const off = await server.request('PATCH', path, { json: { ordering: 'unordered' }, apiKey });
    assert.equal(off.body.ordering, 'unordered');
  });
});
