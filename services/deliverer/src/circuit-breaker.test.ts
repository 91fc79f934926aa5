import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '@triggers/all-in-one/test-server';
import { newCustomer, postEvents, receiverPool, sleep, subscribe, waitForEventStatus, type EventWithAttempts } from '@triggers/testkit';

const MIN_REQUESTS = 4;
/** Long enough that a check made 300 ms into an open period cannot be overtaken by the reset, even on a busy machine. */
const RESET_MS = 1000;
const RETRY_BASE_MS = 50;
/**
 * Small on purpose: retries due after 50, 100 and 200 ms would all fall within the 1000 ms the circuit
 * stays open, so had the breaker spent attempts while open, these deliveries would end failed.
 */
const MAX_ATTEMPTS = 4;

describe('Webhook delivery: the circuit breaker per origin', () => {
  let server: TestServer;
  const receivers = receiverPool();
  before(async () => {
    server = await startTestServer({
      TRIGGERS_BREAKER_MIN_REQUESTS: String(MIN_REQUESTS),
      TRIGGERS_BREAKER_ERROR_PERCENT: '50',
      TRIGGERS_BREAKER_RESET_MS: String(RESET_MS),
      TRIGGERS_RETRY_BASE_MS: String(RETRY_BASE_MS),
      TRIGGERS_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    });
  });
  afterEach(() => receivers.closeAll());
  after(async () => {
    await server?.close();
  });

  const readEvent = async (apiKey: string, eventId: string): Promise<EventWithAttempts> => {
    const response = await server.request('GET', `/api/v1/events/${eventId}`, { apiKey });
    assert.equal(response.status, 200, response.text);
    return response.body;
  };
  const attemptsSpent = async (apiKey: string, eventIds: string[]) => {
    const events = await Promise.all(eventIds.map((id) => readEvent(apiKey, id)));
    return events.reduce((sum, e) => sum + e.delivery_attempts, 0);
  };

  it('opens on 503s, holds deliveries without spending attempts, probes after the reset, then delivers the rest', async () => {
    const { apiKey, eventType } = await newCustomer(server);
    // The four requests that open the circuit and the first half-open probe fail; then the receiver recovers.
    const failures = MIN_REQUESTS + 1;
    const receiver = await receivers.start({ answers: Array.from({ length: failures }, () => ({ status: 503 })), otherwise: { status: 200 } });
    await subscribe(server, apiKey, eventType, receiver.url());
    const eventIds = (await postEvents(server, apiKey, Array.from({ length: MIN_REQUESTS }, (_, n) => ({ event_type: eventType, n })))).map((e) => e.event_id);

    // Opened: without a breaker the retries would be due within 60 ms; nothing more is sent while open.
    const opening = await receiver.waitFor(MIN_REQUESTS);
    const openedAt = opening[MIN_REQUESTS - 1].receivedAt;
    await sleep(300);
    assert.equal(receiver.requests.length, MIN_REQUESTS, 'no request while the circuit is open');
    assert.equal(await attemptsSpent(apiKey, eventIds), MIN_REQUESTS, 'deferred deliveries spent no attempt');
    for (const id of eventIds) assert.equal((await readEvent(apiKey, id)).status, 'pending');

    // Half-open after the reset: exactly one probe; it fails, so the circuit opens again.
    const [probe] = (await receiver.waitFor(failures, RESET_MS * 4)).slice(MIN_REQUESTS);
    assert.ok(probe.receivedAt - openedAt >= RESET_MS - 20, `probe ${probe.receivedAt - openedAt} ms after opening, not before the ${RESET_MS} ms reset`);
    await sleep(300);
    assert.equal(receiver.requests.length, failures, 'one probe, then closed to requests again');
    assert.equal(await attemptsSpent(apiKey, eventIds), failures);

    // The next probe succeeds, the circuit closes and every held delivery goes through on its next attempt.
    const delivered = await Promise.all(eventIds.map((id) => waitForEventStatus(server, apiKey, id, 'delivered', { timeoutMs: RESET_MS * 8 })));
    assert.equal(receiver.requests.length, failures + eventIds.length);
    const secondProbe = receiver.requests[failures];
    assert.ok(secondProbe.receivedAt - probe.receivedAt >= RESET_MS - 20, 'the second probe also waited for the reset');
    for (const event of delivered) {
      const statuses = event.attempts.map((a) => a.status);
      assert.equal(statuses.at(-1), 'succeeded');
      assert.ok(statuses.length <= MAX_ATTEMPTS, `${event.event_id}: ${statuses.join(', ')}`);
      assert.equal(event.delivery_attempts, statuses.length);
    }
    assert.equal(delivered.reduce((sum, e) => sum + e.delivery_attempts, 0), receiver.requests.length, 'one recorded attempt per request received');
  });

  it('keeps other origins flowing while one origin is open', async () => {
    const { apiKey, eventType } = await newCustomer(server);
    const failing = await receivers.start({ otherwise: { status: 503 } });
    const healthy = await receivers.start();
    await subscribe(server, apiKey, eventType, failing.url());
    const other = `${eventType}.healthy`;
    await subscribe(server, apiKey, other, healthy.url());
    await postEvents(server, apiKey, Array.from({ length: MIN_REQUESTS }, () => ({ event_type: eventType })));
    await failing.waitFor(MIN_REQUESTS);
    await sleep(100);
    const heldAt = failing.requests.length;
    assert.equal(heldAt, MIN_REQUESTS, 'the failing origin is open');

    const [posted] = await postEvents(server, apiKey, [{ event_type: other }]);
    const event = await waitForEventStatus(server, apiKey, posted.event_id, 'delivered');
    assert.equal(event.attempts.length, 1);
    assert.equal(failing.requests.length, heldAt, 'the failing origin is still held');
  });

  it('does not count 4xx answers against the origin', async () => {
    const { apiKey, eventType } = await newCustomer(server);
    const receiver = await receivers.start({ answers: Array.from({ length: MIN_REQUESTS * 2 }, () => ({ status: 404 })), otherwise: { status: 200 } });
    await subscribe(server, apiKey, eventType, receiver.url());
    const failed = await postEvents(server, apiKey, Array.from({ length: MIN_REQUESTS * 2 }, () => ({ event_type: eventType })));
    for (const e of failed) await waitForEventStatus(server, apiKey, e.event_id, 'failed');
    const spread = receiver.requests.at(-1)!.receivedAt - receiver.requests[0].receivedAt;
    assert.ok(spread < RESET_MS, `all ${failed.length} answered 404 within ${spread} ms, none held back`);
    const [next] = await postEvents(server, apiKey, [{ event_type: eventType }]);
    const event = await waitForEventStatus(server, apiKey, next.event_id, 'delivered', { timeoutMs: RESET_MS });
    assert.equal(event.attempts.length, 1);
  });
});
