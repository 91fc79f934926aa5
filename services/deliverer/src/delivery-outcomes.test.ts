import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '@triggers/all-in-one/test-server';
import { startWebhookReceiver, newCustomer, postEvent, receiverPool, sleep, subscribe, freePort, waitForEventStatus, type WebhookReceiverOptions } from '@triggers/testkit';

const RETRY_BASE_MS = 50;
const MAX_ATTEMPTS = 3;
const TIMEOUT_MS = 300;
/** Comfortably past every retry the schedule could still make (50 + 100 ms, +20 %). */
const PAST_ANY_RETRY_MS = 400;

describe('Webhook delivery: what each answer means', () => {
  let server: TestServer;
  const receivers = receiverPool();
  before(async () => {
    server = await startTestServer({
      TRIGGERS_RETRY_BASE_MS: String(RETRY_BASE_MS),
      TRIGGERS_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      TRIGGERS_WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
    });
  });
  afterEach(() => receivers.closeAll());
  after(async () => {
    await server?.close();
  });

  /** One customer, one subscription to a scripted receiver, one event. */
  async function deliverOne(script: WebhookReceiverOptions) {
    const { apiKey, eventType } = await newCustomer(server);
    const receiver = await receivers.start(script);
    const subscription = await subscribe(server, apiKey, eventType, receiver.url());
    const posted = await postEvent(server, apiKey, { event_type: eventType });
    return { apiKey, eventType, receiver, subscription, eventId: posted.event_id };
  }

  const summary = (attempts: Array<{ attempt: number; status: string; status_code: number | null }>) =>
    attempts.map((a) => `${a.attempt}:${a.status}:${a.status_code}`);

  it('500, 500, 200: delivered after three attempts, recorded oldest first', async () => {
    const { apiKey, receiver, subscription, eventId } = await deliverOne({ answers: [{ status: 500 }, { status: 500 }] });
    const event = await waitForEventStatus(server, apiKey, eventId, 'delivered');
    assert.deepEqual(summary(event.attempts), ['1:retrying:500', '2:retrying:500', '3:succeeded:200']);
    assert.ok(event.attempts.every((a) => a.workflow_id === subscription.workflow_id));
    const times = event.attempts.map((a) => Date.parse(a.timestamp));
    assert.deepEqual(times, [...times].sort((a, b) => a - b));
    assert.equal(event.delivery_attempts, 3);
    assert.equal(event.last_delivery_timestamp, event.attempts[2].timestamp);
    assert.equal(receiver.requests.length, 3);

    // The inbox shows the same counters.
    const inbox = await server.request('GET', '/api/v1/inbox', { apiKey });
    const row = inbox.body.events.find((e: { event_id: string }) => e.event_id === eventId);
    assert.deepEqual(
      { status: row.status, delivery_attempts: row.delivery_attempts, last_delivery_timestamp: row.last_delivery_timestamp },
      { status: 'delivered', delivery_attempts: 3, last_delivery_timestamp: event.attempts[2].timestamp },
    );
  });

  it('404: failed after one attempt, never retried', async () => {
    const { apiKey, receiver, eventId } = await deliverOne({ otherwise: { status: 404 } });
    const event = await waitForEventStatus(server, apiKey, eventId, 'failed');
    assert.deepEqual(summary(event.attempts), ['1:failed:404']);
    await sleep(PAST_ANY_RETRY_MS);
    assert.equal(receiver.requests.length, 1);
    const later = await waitForEventStatus(server, apiKey, eventId, 'failed');
    assert.equal(later.delivery_attempts, 1);
  });

  for (const status of [400, 401, 403, 422]) {
    it(`${status}: failed after one attempt like every other 4xx`, async () => {
      const { apiKey, eventId } = await deliverOne({ otherwise: { status } });
      const event = await waitForEventStatus(server, apiKey, eventId, 'failed');
      assert.deepEqual(summary(event.attempts), [`1:failed:${status}`]);
    });
  }

  it('410: disables the subscription with a reason, fails the event, no retry; later events are unmatched', async () => {
    const { apiKey, eventType, receiver, subscription, eventId } = await deliverOne({ otherwise: { status: 410 } });
    const event = await waitForEventStatus(server, apiKey, eventId, 'failed');
    assert.deepEqual(summary(event.attempts), ['1:failed:410']);

    const read = await server.request('GET', `/api/v1/subscriptions/${subscription.workflow_id}`, { apiKey });
    assert.equal(read.status, 200, read.text);
    assert.equal(read.body.status, 'disabled');
    assert.equal(typeof read.body.disabled_reason, 'string');
    assert.match(read.body.disabled_reason, /410/);

    const next = await postEvent(server, apiKey, { event_type: eventType });
    await waitForEventStatus(server, apiKey, next.event_id, 'unmatched');
    await sleep(PAST_ANY_RETRY_MS);
    assert.equal(receiver.requests.length, 1);
  });

  for (const status of [408, 429, 502, 503]) {
    it(`${status}: retried, then delivered`, async () => {
      const { apiKey, receiver, eventId } = await deliverOne({ answers: [{ status }] });
      const event = await waitForEventStatus(server, apiKey, eventId, 'delivered');
      assert.deepEqual(summary(event.attempts), [`1:retrying:${status}`, '2:succeeded:200']);
      assert.equal(receiver.requests.length, 2);
    });
  }

  it('a receiver that does not answer in time: the attempt times out and is retried', async () => {
    const { apiKey, receiver, eventId } = await deliverOne({ answers: [{ hang: true }] });
    const event = await waitForEventStatus(server, apiKey, eventId, 'delivered');
    assert.deepEqual(summary(event.attempts), ['1:retrying:null', '2:succeeded:200']);
    const [timedOut] = event.attempts;
    assert.match(timedOut.error ?? '', /300 ms/);
    assert.ok(timedOut.duration_ms >= TIMEOUT_MS - 5 && timedOut.duration_ms < TIMEOUT_MS + 250, `duration_ms ${timedOut.duration_ms} ≈ the ${TIMEOUT_MS} ms timeout`);
    assert.equal(receiver.requests.length, 2);
  });

  it('a slow receiver that answers within the timeout is not cut off', async () => {
    const { apiKey, eventId } = await deliverOne({ answers: [{ status: 200, delayMs: TIMEOUT_MS / 2 }] });
    const event = await waitForEventStatus(server, apiKey, eventId, 'delivered');
    assert.deepEqual(summary(event.attempts), ['1:succeeded:200']);
  });

  it('connection refused: retried until the receiver is up', async () => {
    const { apiKey, eventType } = await newCustomer(server);
    const port = await freePort();
    await subscribe(server, apiKey, eventType, `http://127.0.0.1:${port}/hook`);
    const posted = await postEvent(server, apiKey, { event_type: eventType });

    // The first attempt finds nothing listening; start the receiver before the retry is due.
    await waitForEventStatus(server, apiKey, posted.event_id, 'pending', { until: (e) => e.attempts.length >= 1, intervalMs: 5 });
    const receiver = await startWebhookReceiver({ port });
    try {
      const event = await waitForEventStatus(server, apiKey, posted.event_id, 'delivered');
      const [refused, ...rest] = event.attempts;
      assert.equal(refused.status, 'retrying');
      assert.equal(refused.status_code, null);
      assert.match(refused.error ?? '', /ECONNREFUSED|refused/i);
      assert.equal(rest.at(-1)?.status, 'succeeded');
      assert.equal(receiver.requests.length, 1);
    } finally {
      await receiver.close();
    }
  });

  it(`connection refused on every attempt: failed after ${MAX_ATTEMPTS} attempts`, async () => {
    const { apiKey, eventType } = await newCustomer(server);
    await subscribe(server, apiKey, eventType, `http://127.0.0.1:${await freePort()}/hook`);
    const posted = await postEvent(server, apiKey, { event_type: eventType });
    const event = await waitForEventStatus(server, apiKey, posted.event_id, 'failed');
    assert.deepEqual(summary(event.attempts), ['1:retrying:null', '2:retrying:null', '3:failed:null']);
  });

  it(`exhausting TRIGGERS_MAX_ATTEMPTS (${MAX_ATTEMPTS}): failed with that many attempts, and no more`, async () => {
    const { apiKey, receiver, eventId } = await deliverOne({ otherwise: { status: 500 } });
    const event = await waitForEventStatus(server, apiKey, eventId, 'failed');
    assert.deepEqual(summary(event.attempts), ['1:retrying:500', '2:retrying:500', '3:failed:500']);
    assert.equal(event.delivery_attempts, MAX_ATTEMPTS);
    assert.equal(event.last_delivery_timestamp, event.attempts[2].timestamp);
    assert.ok(event.attempts.every((a) => Number.isInteger(a.duration_ms) && a.duration_ms >= 0));
    await sleep(PAST_ANY_RETRY_MS);
    assert.equal(receiver.requests.length, MAX_ATTEMPTS);
  });

  it('reports pending with the attempts so far while a delivery is retrying', async () => {
    const { apiKey, eventId } = await deliverOne({ answers: [{ status: 503 }, { status: 200, delayMs: 0 }] });
    const seen = new Set<string>();
    const event = await waitForEventStatus(server, apiKey, eventId, 'delivered', { intervalMs: 5, onPoll: (e) => seen.add(`${e.status}/${e.delivery_attempts}`) });
    assert.ok(seen.has('pending/1'), `saw ${[...seen].join(', ')}`);
    assert.ok(![...seen].some((s) => s.startsWith('failed')), `saw ${[...seen].join(', ')}`);
    assert.equal(event.delivery_attempts, 2);
  });
});
