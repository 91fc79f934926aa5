import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '@triggers/all-in-one/test-server';
import { createSubscription, eventIdsIn, newCustomer, postEvent, postEvents, receiverPool, sleep, subscribe, type ApiCustomer, type WebhookReceiver } from '@triggers/testkit';

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
});
