import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '@triggers/all-in-one/test-server';
import { createSubscription, eventIdsIn, newCustomer, postEvent, postEvents, receiverPool, sleep, subscribe, waitUntil, type ApiCustomer, type WebhookReceiver } from '@triggers/testkit';

/**
 * Issue 10, item 1: no tenant can stall another. Each test runs the whole embedded server and
 * measures another customer's latency from its 202 to its webhook while one tenant is as heavy as
 * it may be.
 */

/** Posts one event per `everyMs` for Y until `until()` says stop; resolves with each event's 202 time. */
async function postSteadily(server: TestServer, customer: ApiCustomer, everyMs: number, until: () => boolean): Promise<Map<string, number>> {
  const acceptedAt = new Map<string, number>();
  for (let n = 0; !until(); n++) {
    const started = Date.now();
    const { event_id: eventId } = await postEvent(server, customer.apiKey, { event_type: customer.eventType, n });
    acceptedAt.set(eventId, Date.now());
    await sleep(Math.max(0, everyMs - (Date.now() - started)));
  }
  return acceptedAt;
}

/** From each event's 202 to the receiver getting it, in ms, sorted. Waits up to `withinMs` for the last ones. */
async function latencies(receiver: WebhookReceiver, acceptedAt: Map<string, number>, withinMs: number): Promise<number[]> {
  const requests = await receiver.waitFor(acceptedAt.size, withinMs);
  const arrivedAt = new Map<string, number>();
  for (const request of requests) for (const id of eventIdsIn(request)) if (!arrivedAt.has(id)) arrivedAt.set(id, request.receivedAt);
  return [...acceptedAt].map(([id, at]) => (arrivedAt.get(id) ?? Infinity) - at).sort((a, b) => a - b);
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

describe('Fair delivery: no tenant stalls another (issue 10)', function () {
  const receivers = receiverPool();
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await receivers.closeAll();
  });

  it('a batching subscription with a long window holds no delivery slot: another customer\'s webhooks stay fast, and the batch goes out whole when its window closes', async function () {
    const WINDOW_MS = 15_000;
    this.timeout(WINDOW_MS + 25_000);
    // Far fewer slots than buffered events: before the fix, the 200 first attempts held all 16 slots for the window.
    server = await startTestServer({ TRIGGERS_DELIVERER_CONCURRENCY: '16' });
    const batching = await newCustomer(server, 'Batching');
    const other = await newCustomer(server, 'Other');
    const batchHook = await receivers.start();
    const otherHook = await receivers.start();
    await createSubscription(server, batching.apiKey, {
      event_selector: { type: 'event_type', value: batching.eventType },
      webhook_url: batchHook.url(),
      batch: { max_events: 1000, window_ms: WINDOW_MS },
    });
    await subscribe(server, other.apiKey, other.eventType, otherHook.url());

    const firstPostedAt = Date.now();
    const posted = (await postEvents(server, batching.apiKey, Array.from({ length: 200 }, (_, n) => ({ event_type: batching.eventType, n })))).map((e) => e.event_id);
    await sleep(500); // the 200 first attempts are in the batcher now

    let stop = false;
    const stopAt = Date.now() + 4000;
    const acceptedAt = await postSteadily(server, other, 100, () => stop || Date.now() > stopAt);
    stop = true;
    const sorted = await latencies(otherHook, acceptedAt, 5000);
    process.stdout.write(`      fair-delivery (batch window): other customer's ${sorted.length} webhooks: p50 ${percentile(sorted, 50)} ms, max ${sorted.at(-1)} ms\n`);
    assert.ok(sorted.at(-1)! < 1000, `another customer's webhook waited ${sorted.at(-1)} ms behind an open batch window`);
    assert.equal(batchHook.requests.length, 0, 'the window is still open');

    const [request] = await batchHook.waitFor(1, WINDOW_MS + 10_000);
    assert.ok(request.receivedAt - firstPostedAt >= WINDOW_MS - 50, `sent ${request.receivedAt - firstPostedAt} ms after the first event, at the window's close`);
    assert.deepEqual(eventIdsIn(request).sort(), [...posted].sort(), 'all 200 in one request');
    await sleep(300);
    assert.equal(batchHook.requests.length, 1, 'sent once');
  });
  it('noisy neighbour: tenant X with 5,000 events for a receiver taking 2 s per request never delays tenant Y\'s 10 events/s (p99 202 → webhook < 1 s), X keeps its whole share and gets every event', async function () {
    const SLOW_MS = 2000;
    const Y_PHASE_MS = 20_000;
    const X_EVENTS = 5000;
    this.timeout(90_000);
    // X posts 5,000 events at once: the rate limit (1,000/s by default) is not what this test is about.
    server = await startTestServer({ TRIGGERS_RATE_LIMIT_PER_SECOND: '100000' });
    const x = await newCustomer(server, 'Noisy X');
    const y = await newCustomer(server, 'Quiet Y');
    // X's receiver answers after 2 s while `slow`; then at once, so the test can see every event arrive.
    let slow = true;
    const xHook = await receivers.start({ otherwise: () => (slow ? { status: 200, delayMs: SLOW_MS } : { status: 200 }) });
    const yHook = await receivers.start();
    await subscribe(server, x.apiKey, x.eventType, xHook.url());
    await subscribe(server, y.apiKey, y.eventType, yHook.url());

    // X's flood first (its ingest is a matter of capacity, not of fairness), then Y's steady stream
    // while X's 5,000 deliveries are queued for a receiver that takes 16 of them per 2 s.
    const xPosted = new Set<string>();
    const floodStartedAt = Date.now();
    for (let i = 0; i < X_EVENTS; i += 500) {
      for (const e of await postEvents(server, x.apiKey, Array.from({ length: 500 }, (_, n) => ({ event_type: x.eventType, n: i + n })))) xPosted.add(e.event_id);
    }
    const floodMs = Date.now() - floodStartedAt;
    const yStartedAt = Date.now();
    const acceptedAt = await postSteadily(server, y, 100, () => Date.now() - yStartedAt > Y_PHASE_MS);
    const slowUntil = Date.now();
    const sorted = await latencies(yHook, acceptedAt, 10_000);
    const xDuringSlow = xHook.requests.filter((r) => r.receivedAt < slowUntil);
    // X's requests in flight at once: each was answered SLOW_MS after it arrived.
    let xMaxInFlight = 0;
    for (const r of xDuringSlow) xMaxInFlight = Math.max(xMaxInFlight, xDuringSlow.filter((o) => o.receivedAt <= r.receivedAt && r.receivedAt < o.receivedAt + SLOW_MS).length);
    const xSlowSpanS = (slowUntil - (xDuringSlow[0]?.receivedAt ?? slowUntil)) / 1000;
    process.stdout.write(
      `      noisy neighbour: Y ${sorted.length} webhooks p50 ${percentile(sorted, 50)} ms, p99 ${percentile(sorted, 99)} ms, max ${sorted.at(-1)} ms; ` +
        `X ${xDuringSlow.length} requests in ${xSlowSpanS.toFixed(1)} s of its slow receiver (${xMaxInFlight} at once at most), its 5,000 accepted in ${floodMs} ms\n`,
    );
    assert.ok(percentile(sorted, 99) < 1000, `Y's p99 from 202 to webhook was ${percentile(sorted, 99)} ms behind X's flood`);
    // X is capped at its share (16 per subscription and per origin) but not starved below it.
    assert.ok(xMaxInFlight <= 16, `X held ${xMaxInFlight} requests at once, over its share of 16`);
    assert.ok(xDuringSlow.length >= 0.5 * 16 * (xSlowSpanS / (SLOW_MS / 1000)), `X got ${xDuringSlow.length} requests in ${xSlowSpanS.toFixed(1)} s: far below its share of 16 at a time`);

    // Then X's receiver turns fast: every one of the 5,000 arrives (none dead-lettered or lost while it waited).
    slow = false;
    const xReceived = new Set<string>();
    let read = 0;
    await waitUntil(
      async () => {
        for (; read < xHook.requests.length; read++) for (const id of eventIdsIn(xHook.requests[read])) xReceived.add(id);
        return xReceived.size >= X_EVENTS;
      },
      { timeoutMs: 40_000, intervalMs: 250, what: "every one of X's 5,000 events at its receiver" },
    );
    assert.deepEqual([...xReceived].filter((id) => !xPosted.has(id)), [], 'X received only its own events');
  });
});
