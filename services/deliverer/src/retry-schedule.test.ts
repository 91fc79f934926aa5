import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '@triggers/all-in-one/test-server';
import { createSubscription, gaps, newCustomer, postEvent, receiverPool, subscribe, verifySignature, waitForEventStatus, watchEventLoopStalls, type EventWithAttempts } from '@triggers/testkit';

/** Large enough that ±20 % jitter and scheduling noise cannot reorder or blur the schedule. */
const RETRY_BASE_MS = 200;
const MAX_ATTEMPTS = 4;
const JITTER = 0.2;
/** API.md: "A retry fires within 50 ms of its due time in embedded mode". */
const DUE_TIME_PRECISION_MS = 50;
/**
 * What this 2-core machine may add on top: a SQLite write or two and an HTTP round trip on loopback.
 * Measured lateness is 0–6 ms on a quiet machine. A stall of the whole process, measured while the
 * test runs (see `watchEventLoopStalls`), is excused on top: it delays the deliverer's timers and
 * says nothing about its scheduling.
 */
const MACHINE_SLACK_MS = 25;
/** The deliverer may start an attempt up to 5 ms before it is due (timer granularity); 1 ms more for rounding. */
const EARLY_MS = 6;

/** The nominal delay after attempt `n` (1-based): base × 2^(n-1). */
const nominalDelay = (n: number) => RETRY_BASE_MS * 2 ** (n - 1);
const lowest = (n: number) => nominalDelay(n) * (1 - JITTER) - EARLY_MS;
const highest = (n: number) => nominalDelay(n) * (1 + JITTER);

describe('Webhook delivery: the retry schedule', () => {
  let server: TestServer;
  const receivers = receiverPool();
  before(async () => {
    server = await startTestServer({ TRIGGERS_RETRY_BASE_MS: String(RETRY_BASE_MS), TRIGGERS_MAX_ATTEMPTS: String(MAX_ATTEMPTS) });
  });
  after(async () => {
    await server?.close();
  });
  let stalls: ReturnType<typeof watchEventLoopStalls>;
  beforeEach(() => {
    stalls = watchEventLoopStalls();
  });
  afterEach(async () => {
    stalls.stop();
    await receivers.closeAll();
  });
  /** How late a retry may fire after its due time: API.md's 50 ms, the machine's slack and any stall seen. */
  const margin = () => DUE_TIME_PRECISION_MS + MACHINE_SLACK_MS + stalls.longestMs();

  /** When each attempt ended, by the attempt's own record: it started at `timestamp` and took `duration_ms`. */
  const endsOf = (event: EventWithAttempts) => event.attempts.map((a) => Date.parse(a.timestamp) + a.duration_ms);
  const startsOf = (event: EventWithAttempts) => event.attempts.map((a) => Date.parse(a.timestamp));

  it('retries one delivery under the same webhook-id, each retry signed afresh, with growing delays', async () => {
    const { apiKey, eventType } = await newCustomer(server);
    const receiver = await receivers.start({ answers: [{ status: 500 }, { status: 500 }] });
    const subscription = await subscribe(server, apiKey, eventType, receiver.url());
    const posted = await postEvent(server, apiKey, { event_type: eventType });

    const event = await waitForEventStatus(server, apiKey, posted.event_id, 'delivered');
    assert.equal(event.attempts.length, 3);
    const requests = receiver.requests;
    assert.equal(requests.length, 3);
    assert.equal(new Set(requests.map((r) => r.headers['webhook-id'])).size, 1, 'one webhook-id across the retries');
    assert.equal(new Set(requests.map((r) => r.body)).size, 1, 'the same body every time');
    for (const request of requests) verifySignature(request, subscription.secret);

    const receivedGaps = gaps(requests.map((r) => r.receivedAt));
    assert.ok(receivedGaps[1] >= receivedGaps[0] - stalls.longestMs(), `delays between attempts grow: ${receivedGaps.join(', ')} ms (longest stall ${stalls.longestMs()} ms)`);
    receivedGaps.forEach((gap, i) => {
      assert.ok(gap >= lowest(i + 1), `gap ${i + 1} of ${gap} ms is at least ${lowest(i + 1)} ms`);
      assert.ok(gap <= highest(i + 1) + margin(), `gap ${i + 1} of ${gap} ms is at most ${highest(i + 1)} ms + the margin`);
    });
  });

  it('a subscription\'s own retry policy: its schedule and attempt count, not the settings\'', async () => {
    const { apiKey, eventType } = await newCustomer(server);
    const receiver = await receivers.start({ otherwise: { status: 503 } });
    const schedule = [150, 600];
    await createSubscription(server, apiKey, { event_selector: { type: 'event_type', value: eventType }, webhook_url: receiver.url(), retry: { max_attempts: 3, schedule_ms: schedule } });
    const posted = await postEvent(server, apiKey, { event_type: eventType });

    const event = await waitForEventStatus(server, apiKey, posted.event_id, 'failed');
    assert.deepEqual(event.attempts.map((a) => a.status), ['retrying', 'retrying', 'failed'], `3 attempts (the setting says ${MAX_ATTEMPTS})`);
    const receivedGaps = gaps(receiver.requests.map((r) => r.receivedAt));
    receivedGaps.forEach((gap, i) => {
      assert.ok(gap >= schedule[i] * (1 - JITTER) - EARLY_MS, `gap ${i + 1} of ${gap} ms follows schedule_ms[${i}] = ${schedule[i]}`);
      assert.ok(gap <= schedule[i] * (1 + JITTER) + margin(), `gap ${i + 1} of ${gap} ms is at most ${schedule[i]} ms + 20 % + the margin`);
    });
    assert.deepEqual(
      event.deliveries.map((d) => ({ status: d.status, attempts_made: d.attempts_made, next_attempt_at: d.next_attempt_at })),
      [{ status: 'failed', attempts_made: 3, next_attempt_at: null }],
    );
    assert.match(event.deliveries[0].failure_reason ?? '', /gave up after 3 attempts: HTTP 503/);
  });

  it('shows a pending delivery\'s attempts made and next retry time while it waits', async () => {
    const { apiKey, eventType } = await newCustomer(server);
    const receiver = await receivers.start({ answers: [{ status: 500 }] });
    await createSubscription(server, apiKey, { event_selector: { type: 'event_type', value: eventType }, webhook_url: receiver.url(), retry: { schedule_ms: [2000] } });
    const posted = await postEvent(server, apiKey, { event_type: eventType });
    const waiting = await waitForEventStatus(server, apiKey, posted.event_id, 'pending', { until: (e) => e.deliveries[0]?.attempts_made === 1 && e.attempts.length === 1 });
    const [delivery] = waiting.deliveries;
    assert.equal(delivery.status, 'pending');
    const attemptEnd = Date.parse(waiting.attempts[0].timestamp) + waiting.attempts[0].duration_ms;
    const dueIn = Date.parse(delivery.next_attempt_at!) - attemptEnd;
    assert.ok(dueIn >= 2000 * (1 - JITTER) - EARLY_MS && dueIn <= 2000 * (1 + JITTER) + margin(), `next attempt due ${dueIn} ms after the first ended`);
    const delivered = await waitForEventStatus(server, apiKey, posted.event_id, 'delivered');
    assert.deepEqual(delivered.deliveries.map((d) => [d.status, d.attempts_made, d.next_attempt_at]), [['succeeded', 2, null]]);
  });

  it('a subscription\'s timeout_ms cuts a slow receiver off sooner than the setting', async () => {
    const { apiKey, eventType } = await newCustomer(server);
    const receiver = await receivers.start({ otherwise: { status: 200, delayMs: 2500 } });
    await createSubscription(server, apiKey, { event_selector: { type: 'event_type', value: eventType }, webhook_url: receiver.url(), retry: { max_attempts: 1 }, timeout_ms: 1000 });
    const posted = await postEvent(server, apiKey, { event_type: eventType });
    const event = await waitForEventStatus(server, apiKey, posted.event_id, 'failed');
    assert.equal(event.attempts.length, 1);
    assert.match(event.attempts[0].error ?? '', /No response within 1000 ms/);
    assert.ok(event.attempts[0].duration_ms >= 950 && event.attempts[0].duration_ms < 2400, `${event.attempts[0].duration_ms} ms`);
  });

  it('a new event to the same subscription is a new delivery with a new webhook-id', async () => {
    const { apiKey, eventType } = await newCustomer(server);
    const receiver = await receivers.start();
    await subscribe(server, apiKey, eventType, receiver.url());
    await postEvent(server, apiKey, { event_type: eventType, n: 1 });
    await postEvent(server, apiKey, { event_type: eventType, n: 2 });
    const [a, b] = await receiver.waitFor(2);
    assert.notEqual(a.headers['webhook-id'], b.headers['webhook-id']);
  });

  it(`fires each retry within ${DUE_TIME_PRECISION_MS} ms of its due time (base ${RETRY_BASE_MS} ms ±20 %, doubling)`, async () => {
    const { apiKey, eventType } = await newCustomer(server);
    const receiver = await receivers.start({ otherwise: { status: 503 } });
    await subscribe(server, apiKey, eventType, receiver.url());
    const posted = await postEvent(server, apiKey, { event_type: eventType });

    // The delivery row says when the next attempt is due; sample it as the deliverer reschedules.
    // While an attempt is in flight the row may hold its claim's lease instead, so the due time
    // after attempt n is the last value seen while n attempts were made.
    const [first] = await receiver.waitFor(1);
    const deliveryId = first.headers['webhook-id'] as string;
    const dueAfter = new Map<number, number>();
    const sampler = setInterval(() => {
      void server.server.ctx.backends.deliveryStore.getDelivery(deliveryId).then((d) => {
        if (d?.status === 'pending') dueAfter.set(d.attemptsMade, d.nextAttemptAt);
      });
    }, 5);
    let event: EventWithAttempts;
    try {
      event = await waitForEventStatus(server, apiKey, posted.event_id, 'failed');
    } finally {
      clearInterval(sampler);
    }
    assert.deepEqual(event.attempts.map((a) => a.status), ['retrying', 'retrying', 'retrying', 'failed']);

    const starts = startsOf(event);
    const ends = endsOf(event);
    const received = receiver.requests.map((r) => r.receivedAt);
    for (let n = 1; n < MAX_ATTEMPTS; n++) {
      const due = dueAfter.get(n);
      assert.ok(due !== undefined, `saw the due time after attempt ${n}`);
      const scheduled = due - ends[n - 1];
      // The delay is counted from the end of attempt n (after its record was written).
      assert.ok(scheduled >= lowest(n) && scheduled <= highest(n) + MACHINE_SLACK_MS + stalls.longestMs(), `retry ${n} scheduled ${scheduled} ms after attempt ${n} ended; nominal ${nominalDelay(n)} ms ±20 %`);
      const late = starts[n] - due;
      assert.ok(late >= -EARLY_MS && late <= margin(), `attempt ${n + 1} started ${late} ms after its due time (margin ${margin()} ms)`);
      const reachedReceiver = received[n] - due;
      assert.ok(reachedReceiver <= margin(), `attempt ${n + 1} reached the receiver ${reachedReceiver} ms after its due time (margin ${margin()} ms)`);
      // The same bound without the store: from the attempt records and the receiver alone.
      const gap = starts[n] - ends[n - 1];
      assert.ok(gap >= lowest(n) && gap <= highest(n) + margin(), `attempt ${n + 1} started ${gap} ms after attempt ${n} ended`);
    }
  });

  it('429 with Retry-After: 1 waits the full second asked for, far beyond the schedule: max(backoff, Retry-After)', async () => {
    const { apiKey, eventType } = await newCustomer(server);
    const receiver = await receivers.start({ answers: [{ status: 429, headers: { 'retry-after': '1' } }] });
    await subscribe(server, apiKey, eventType, receiver.url());
    const posted = await postEvent(server, apiKey, { event_type: eventType });
    const event = await waitForEventStatus(server, apiKey, posted.event_id, 'delivered');
    assert.deepEqual(event.attempts.map((a) => `${a.status}:${a.status_code}`), ['retrying:429', 'succeeded:200']);

    // The schedule alone says 160–240 ms after attempt 1; the receiver asked for 1000 ms (more than twice that).
    const [gap] = gaps([endsOf(event)[0], startsOf(event)[1]]);
    assert.ok(gap >= 1000 - EARLY_MS, `waited ${gap} ms: at least the 1000 ms Retry-After asked for`);
    assert.ok(gap <= 1000 + margin(), `waited ${gap} ms: the retry fires when Retry-After is due, not later`);
  });

  it('a Retry-After on a 500 is not honoured (only 429 and 503): the plain schedule', async () => {
    const { apiKey, eventType } = await newCustomer(server);
    const receiver = await receivers.start({ answers: [{ status: 500, headers: { 'retry-after': '5' } }] });
    await subscribe(server, apiKey, eventType, receiver.url());
    const posted = await postEvent(server, apiKey, { event_type: eventType });
    const event = await waitForEventStatus(server, apiKey, posted.event_id, 'delivered');
    const [gap] = gaps([endsOf(event)[0], startsOf(event)[1]]);
    assert.ok(gap >= lowest(1) && gap <= highest(1) + margin(), `waited ${gap} ms, the plain schedule, not the 5 s asked`);
  });

  it('a Retry-After shorter than the schedule does not hurry the retry', async () => {
    const { apiKey, eventType } = await newCustomer(server);
    const receiver = await receivers.start({ answers: [{ status: 503, headers: { 'retry-after': '0' } }] });
    await subscribe(server, apiKey, eventType, receiver.url());
    const posted = await postEvent(server, apiKey, { event_type: eventType });
    const event = await waitForEventStatus(server, apiKey, posted.event_id, 'delivered');
    const [gap] = gaps([endsOf(event)[0], startsOf(event)[1]]);
    assert.ok(gap >= lowest(1) && gap <= highest(1) + margin(), `waited ${gap} ms, the plain schedule`);
  });
});
