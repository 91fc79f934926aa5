import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '@triggers/all-in-one/test-server';
import { newCustomer, postEvent, receiverPool, sleep, subscribe, verifySignature, waitForEventStatus } from '@triggers/testkit';

const MAX_ATTEMPTS = 3;

describe('Webhook delivery: which subscriptions get an event', () => {
  let server: TestServer;
  const receivers = receiverPool();
  before(async () => {
    server = await startTestServer({ TRIGGERS_RETRY_BASE_MS: '50', TRIGGERS_MAX_ATTEMPTS: String(MAX_ATTEMPTS) });
  });
  afterEach(() => receivers.closeAll());
  after(async () => {
    await server?.close();
  });

  const patch = (apiKey: string, workflowId: string, json: unknown) => server.request('PATCH', `/api/v1/subscriptions/${workflowId}`, { apiKey, json });

  describe('fan-out to several subscriptions', () => {
    it('one fails (404), one succeeds: delivered, with the attempts of both workflows', async () => {
      const { apiKey, eventType } = await newCustomer(server);
      const failing = await receivers.start({ otherwise: { status: 404 } });
      const working = await receivers.start();
      const a = await subscribe(server, apiKey, eventType, failing.url());
      const b = await subscribe(server, apiKey, eventType, working.url());
      const posted = await postEvent(server, apiKey, { event_type: eventType });

      const event = await waitForEventStatus(server, apiKey, posted.event_id, 'delivered', { until: (e) => e.attempts.length === 2 });
      const byWorkflow = Object.fromEntries(event.attempts.map((x) => [x.workflow_id, `${x.status}:${x.status_code}`]));
      assert.deepEqual(byWorkflow, { [a.workflow_id]: 'failed:404', [b.workflow_id]: 'succeeded:200' });
      assert.equal(event.delivery_attempts, 2, 'delivery_attempts counts across subscriptions');
      assert.equal(failing.requests.length, 1);
      assert.equal(working.requests.length, 1);
    });

    it('each subscription gets its own delivery: its own webhook-id, signed with its own secret', async () => {
      const { apiKey, eventType } = await newCustomer(server);
      const first = await receivers.start();
      const second = await receivers.start();
      const a = await subscribe(server, apiKey, eventType, first.url());
      const b = await subscribe(server, apiKey, eventType, second.url());
      const posted = await postEvent(server, apiKey, { event_type: eventType });
      const [[toA], [toB]] = await Promise.all([first.waitFor(1), second.waitFor(1)]);
      assert.notEqual(toA.headers['webhook-id'], toB.headers['webhook-id']);
      assert.equal(toA.body, toB.body);
      verifySignature(toA, a.secret);
      verifySignature(toB, b.secret);
      assert.throws(() => verifySignature(toA, b.secret));
      await waitForEventStatus(server, apiKey, posted.event_id, 'delivered', { until: (e) => e.attempts.length === 2 });
    });

    it('stays pending, never failed, while one subscription is still retrying after the other failed', async () => {
      const { apiKey, eventType } = await newCustomer(server);
      const failing = await receivers.start({ otherwise: { status: 404 } });
      const recovering = await receivers.start({ answers: [{ status: 500 }, { status: 500 }] });
      await subscribe(server, apiKey, eventType, failing.url());
      await subscribe(server, apiKey, eventType, recovering.url());
      const posted = await postEvent(server, apiKey, { event_type: eventType });

      const statuses = new Set<string>();
      const event = await waitForEventStatus(server, apiKey, posted.event_id, 'delivered', { intervalMs: 5, onPoll: (e) => statuses.add(e.status) });
      assert.ok(!statuses.has('failed'), `went through ${[...statuses].join(', ')}`);
      assert.equal(event.delivery_attempts, 4);
      assert.deepEqual(event.attempts.map((x) => x.status).sort(), ['failed', 'retrying', 'retrying', 'succeeded']);
    });

    it('all fail: failed only once the last subscription gave up', async () => {
      const { apiKey, eventType } = await newCustomer(server);
      const notFound = await receivers.start({ otherwise: { status: 404 } });
      const broken = await receivers.start({ otherwise: { status: 500 } });
      const a = await subscribe(server, apiKey, eventType, notFound.url());
      const b = await subscribe(server, apiKey, eventType, broken.url());
      const posted = await postEvent(server, apiKey, { event_type: eventType });

      const readings: Array<{ status: string; attempts: number }> = [];
      const event = await waitForEventStatus(server, apiKey, posted.event_id, 'failed', { intervalMs: 5, onPoll: (e) => readings.push({ status: e.status, attempts: e.attempts.length }) });
      const early = readings.filter((r) => r.status !== 'pending' && r.attempts < 1 + MAX_ATTEMPTS);
      assert.deepEqual(early, [], 'settled only after the last attempt');
      assert.ok(readings.some((r) => r.status === 'pending' && r.attempts >= 2), 'was seen pending after the 404 while the other retried');
      const forA = event.attempts.filter((x) => x.workflow_id === a.workflow_id).map((x) => x.status);
      const forB = event.attempts.filter((x) => x.workflow_id === b.workflow_id).map((x) => x.status);
      assert.deepEqual(forA, ['failed']);
      assert.deepEqual(forB, ['retrying', 'retrying', 'failed']);
      assert.equal(event.delivery_attempts, 1 + MAX_ATTEMPTS);
    });
  });

  describe('unmatched events', () => {
    it('no subscription at all: unmatched, no attempts', async () => {
      const { apiKey, eventType } = await newCustomer(server);
      const posted = await postEvent(server, apiKey, { event_type: eventType });
      const event = await waitForEventStatus(server, apiKey, posted.event_id, 'unmatched');
      assert.equal(event.delivery_attempts, 0);
      assert.equal(event.last_delivery_timestamp, null);
      assert.deepEqual(event.attempts, []);
    });

    it("no subscription's selector matches: unmatched, nothing sent", async () => {
      const { apiKey, eventType } = await newCustomer(server);
      const receiver = await receivers.start();
      await subscribe(server, apiKey, `${eventType}.other`, receiver.url());
      const posted = await postEvent(server, apiKey, { event_type: eventType });
      await waitForEventStatus(server, apiKey, posted.event_id, 'unmatched');
      assert.equal(receiver.requests.length, 0);
    });

    it('only a disabled subscription would match: unmatched, nothing sent', async () => {
      const { apiKey, eventType } = await newCustomer(server);
      const receiver = await receivers.start();
      const subscription = await subscribe(server, apiKey, eventType, receiver.url());
      assert.equal((await patch(apiKey, subscription.workflow_id, { status: 'disabled' })).status, 200);
      const posted = await postEvent(server, apiKey, { event_type: eventType });
      await waitForEventStatus(server, apiKey, posted.event_id, 'unmatched');
      assert.equal(receiver.requests.length, 0);
    });

    it("another customer's matching subscription does not count", async () => {
      const owner = await newCustomer(server);
      const stranger = await server.createCustomer();
      const receiver = await receivers.start();
      await subscribe(server, owner.apiKey, owner.eventType, receiver.url());
      const posted = await postEvent(server, stranger.apiKey, { event_type: owner.eventType });
      await waitForEventStatus(server, stranger.apiKey, posted.event_id, 'unmatched');
      assert.equal(receiver.requests.length, 0);
    });

    it('selectors other than event_type are evaluated against the payload', async () => {
      const { apiKey, eventType } = await newCustomer(server);
      const receiver = await receivers.start();
      const response = await server.request('POST', '/api/v1/subscriptions', {
        apiKey,
        json: {
          event_selector: {
            type: 'all',
            selectors: [
              { type: 'jsonpath', expression: `$.event_type == '${eventType}' && $.amount > 100` },
              { type: 'custom', function: { field: 'customer.tier', operator: 'in', value: ['gold', 'platinum'] } },
            ],
          },
          webhook_url: receiver.url(),
        },
      });
      assert.equal(response.status, 201, response.text);
      const big = await postEvent(server, apiKey, { event_type: eventType, amount: 150, customer: { tier: 'gold' } });
      const small = await postEvent(server, apiKey, { event_type: eventType, amount: 50, customer: { tier: 'gold' } });
      const basic = await postEvent(server, apiKey, { event_type: eventType, amount: 150, customer: { tier: 'basic' } });
      const text = await postEvent(server, apiKey, { event_type: eventType, amount: '150', customer: { tier: 'gold' } });
      await waitForEventStatus(server, apiKey, big.event_id, 'delivered');
      for (const e of [small, basic, text]) await waitForEventStatus(server, apiKey, e.event_id, 'unmatched');
      assert.deepEqual(receiver.requests.map((r) => JSON.parse(r.body)[0].event_id), [big.event_id]);
    });
  });

  describe('subscription changes', () => {
    it('apply to every event accepted after the change’s response, each time', async () => {
      const { apiKey, eventType } = await newCustomer(server);
      const first = await receivers.start();
      const second = await receivers.start();
      const idsAt = (receiver: typeof first) => receiver.requests.map((r) => JSON.parse(r.body)[0].event_id as string);

      for (let round = 0; round < 3; round++) {
        const subscription = await subscribe(server, apiKey, eventType, first.url());
        const created = await postEvent(server, apiKey, { event_type: eventType, round, step: 'created' });
        await waitForEventStatus(server, apiKey, created.event_id, 'delivered');
        assert.ok(idsAt(first).includes(created.event_id));

        assert.equal((await patch(apiKey, subscription.workflow_id, { webhook_url: second.url() })).status, 200);
        const moved = await postEvent(server, apiKey, { event_type: eventType, round, step: 'moved' });
        await waitForEventStatus(server, apiKey, moved.event_id, 'delivered');
        assert.ok(idsAt(second).includes(moved.event_id), 'went to the new URL');
        assert.ok(!idsAt(first).includes(moved.event_id), 'not to the old one');

        assert.equal((await patch(apiKey, subscription.workflow_id, { event_selector: { type: 'event_type', value: `${eventType}.renamed` } })).status, 200);
        const reselected = await postEvent(server, apiKey, { event_type: eventType, round, step: 'reselected' });
        await waitForEventStatus(server, apiKey, reselected.event_id, 'unmatched');

        const disabled = await patch(apiKey, subscription.workflow_id, { event_selector: { type: 'event_type', value: eventType }, status: 'disabled' });
        assert.equal(disabled.body.status, 'disabled');
        const whileDisabled = await postEvent(server, apiKey, { event_type: eventType, round, step: 'disabled' });
        await waitForEventStatus(server, apiKey, whileDisabled.event_id, 'unmatched');

        assert.equal((await patch(apiKey, subscription.workflow_id, { status: 'active' })).status, 200);
        const enabled = await postEvent(server, apiKey, { event_type: eventType, round, step: 'enabled' });
        await waitForEventStatus(server, apiKey, enabled.event_id, 'delivered');

        assert.equal((await server.request('DELETE', `/api/v1/subscriptions/${subscription.workflow_id}`, { apiKey })).status, 204);
        const deleted = await postEvent(server, apiKey, { event_type: eventType, round, step: 'deleted' });
        await waitForEventStatus(server, apiKey, deleted.event_id, 'unmatched');
      }
    });

    it('disabling a subscription stops the retries of a delivery already under way', async () => {
      const { apiKey, eventType } = await newCustomer(server);
      // The first answer is slow, so the subscription is disabled while attempt 1 is in flight.
      const receiver = await receivers.start({ answers: [{ status: 503, delayMs: 150 }], otherwise: { status: 200 } });
      const subscription = await subscribe(server, apiKey, eventType, receiver.url());
      const posted = await postEvent(server, apiKey, { event_type: eventType });
      await receiver.waitFor(1);
      assert.equal((await patch(apiKey, subscription.workflow_id, { status: 'disabled' })).status, 200);

      const event = await waitForEventStatus(server, apiKey, posted.event_id, 'failed');
      assert.deepEqual(event.attempts.map((a) => `${a.status}:${a.status_code}`), ['retrying:503']);
      await sleep(300);
      assert.equal(receiver.requests.length, 1);
    });
  });
});
