import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '@triggers/all-in-one/test-server';
import { newCustomer, postEvent, receiverPool, subscribe, verifySignature, waitForEventStatus } from '@triggers/testkit';

const RFC3339_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('Webhook delivery: the request a receiver gets', () => {
  let server: TestServer;
  const receivers = receiverPool();
  before(async () => {
    server = await startTestServer({ TRIGGERS_RETRY_BASE_MS: '50', TRIGGERS_MAX_ATTEMPTS: '3' });
  });
  afterEach(() => receivers.closeAll());
  after(async () => {
    await server?.close();
  });

  it('a 2xx settles the event delivered after one recorded attempt', async () => {
    const { apiKey, eventType } = await newCustomer(server);
    const receiver = await receivers.start({ answers: [{ status: 204, delayMs: 30 }] });
    const subscription = await subscribe(server, apiKey, eventType, receiver.url());
    const posted = await postEvent(server, apiKey, { event_type: eventType, n: 1 });

    const event = await waitForEventStatus(server, apiKey, posted.event_id, 'delivered');
    assert.equal(event.delivery_attempts, 1);
    assert.equal(event.attempts.length, 1);
    const [attempt] = event.attempts;
    assert.equal(attempt.workflow_id, subscription.workflow_id);
    assert.equal(attempt.attempt, 1);
    assert.equal(attempt.status, 'succeeded');
    assert.equal(attempt.status_code, 204);
    assert.equal(attempt.error, null);
    assert.ok(Number.isInteger(attempt.duration_ms) && attempt.duration_ms >= 25, `duration_ms ${attempt.duration_ms} covers the receiver's 30 ms`);
    assert.match(attempt.timestamp, RFC3339_MILLIS);
    assert.equal(event.last_delivery_timestamp, attempt.timestamp);
    assert.equal(receiver.requests.length, 1);
  });

  it('POSTs the event as a one-element JSON array with the documented fields', async () => {
    const { apiKey, customerId, eventType } = await newCustomer(server);
    const receiver = await receivers.start();
    await subscribe(server, apiKey, eventType, receiver.url('/hooks/orders?source=triggers'));
    const payload = { event_type: eventType, order: { id: 'A-1', amount: 129.5, lines: [1, 2] }, note: 'naïve ✓' };
    const posted = await postEvent(server, apiKey, payload);

    const [request] = await receiver.waitFor(1);
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/hooks/orders?source=triggers');
    assert.deepEqual(JSON.parse(request.body), [{ event_id: posted.event_id, customer_id: customerId, payload, timestamp: posted.timestamp }]);
    await waitForEventStatus(server, apiKey, posted.event_id, 'delivered');
  });

  it('sends Content-Type, User-Agent and the Standard Webhooks headers', async () => {
    const { apiKey, eventType } = await newCustomer(server);
    const receiver = await receivers.start();
    await subscribe(server, apiKey, eventType, receiver.url());
    const before = Math.floor(Date.now() / 1000);
    await postEvent(server, apiKey, { event_type: eventType });

    const [request] = await receiver.waitFor(1);
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers['user-agent'], 'Zapier-Triggers-API/1.0');
    assert.match(request.headers['webhook-id'] as string, /^\S{1,255}$/);
    const timestamp = Number(request.headers['webhook-timestamp']);
    assert.ok(Number.isInteger(timestamp) && timestamp >= before && timestamp <= Math.ceil(Date.now() / 1000), `webhook-timestamp ${timestamp} is now in unix seconds`);
    assert.match(request.headers['webhook-signature'] as string, /^v1,[A-Za-z0-9+/]+={0,2}$/);
  });

  it('signs so that standardwebhooks verifies with the secret from the create response, and only with it', async () => {
    const { apiKey, eventType } = await newCustomer(server);
    const receiver = await receivers.start();
    const subscription = await subscribe(server, apiKey, eventType, receiver.url());
    const other = await subscribe(server, apiKey, `${eventType}.other`, receiver.url('/other'));
    const payload = { event_type: eventType, amount: 42 };
    const posted = await postEvent(server, apiKey, payload);

    const [request] = await receiver.waitFor(1);
    const verified = verifySignature(request, subscription.secret) as Array<{ event_id: string; payload: unknown }>;
    assert.equal(verified[0].event_id, posted.event_id);
    assert.deepEqual(verified[0].payload, payload);
    assert.throws(() => verifySignature(request, other.secret), /signature/i);
    assert.throws(() => verifySignature({ ...request, body: request.body.replace('42', '43') }, subscription.secret), /signature/i);
  });

  it('after rotate-secret, deliveries verify with the new secret and with the old one', async () => {
    const { apiKey, eventType } = await newCustomer(server);
    const receiver = await receivers.start();
    const subscription = await subscribe(server, apiKey, eventType, receiver.url());
    await postEvent(server, apiKey, { event_type: eventType, n: 1 });
    const [beforeRotation] = await receiver.waitFor(1);
    verifySignature(beforeRotation, subscription.secret);

    const rotated = await server.request('POST', `/api/v1/subscriptions/${subscription.workflow_id}/rotate-secret`, { apiKey });
    assert.equal(rotated.status, 200, rotated.text);
    const newSecret: string = rotated.body.secret;
    assert.notEqual(newSecret, subscription.secret);
    await postEvent(server, apiKey, { event_type: eventType, n: 2 });

    const [, afterRotation] = await receiver.waitFor(2);
    assert.equal(JSON.parse(afterRotation.body)[0].payload.n, 2);
    verifySignature(afterRotation, newSecret);
    verifySignature(afterRotation, subscription.secret);
    assert.equal((afterRotation.headers['webhook-signature'] as string).split(' ').length, 2);
    assert.throws(() => verifySignature(beforeRotation, newSecret), /signature/i, 'the new secret did not sign before the rotation');
  });

  it('a second rotation retires the first secret at once: the two latest secrets sign', async () => {
    const { apiKey, eventType } = await newCustomer(server);
    const receiver = await receivers.start();
    const subscription = await subscribe(server, apiKey, eventType, receiver.url());
    const rotate = async () => {
      const response = await server.request('POST', `/api/v1/subscriptions/${subscription.workflow_id}/rotate-secret`, { apiKey });
      assert.equal(response.status, 200, response.text);
      return response.body.secret as string;
    };
    const second = await rotate();
    const third = await rotate();
    await postEvent(server, apiKey, { event_type: eventType });
    const [request] = await receiver.waitFor(1);
    verifySignature(request, third);
    verifySignature(request, second);
    assert.throws(() => verifySignature(request, subscription.secret), /signature/i);
  });
});
