import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig, createServiceContext, type ServiceContext } from '@triggers/core/runtime';
import { makeTempDataDir } from '@triggers/core/testing';
import { deliveryIdFor, JsonText, type EventStatus, type NewEvent } from '@triggers/core/domain';
import { deliveryMessage } from '@triggers/core/ports';
import { subscriptionRecord, uniqueId, uuidv7At, sleep } from '@triggers/testkit';
import { startDeliverer, type RunningDeliverer } from '@triggers/deliverer';
import { startMatcher, type RunningMatcher } from './index.ts';
import { sweepOnce } from './sweeper.ts';

/**
 * Dual-write safety. Where the event store and the queue are different engines (DynamoDB or
 * PostgreSQL + SQS or Kafka), the write of an event (or of a delivery's progress) and the send of
 * its queue message are two writes, and a crash between them leaves the record without its
 * message. These tests make exactly that state on real SQLite backends, by writing through the
 * stores directly (no queue message), and show that the sweeper re-enqueues it once it is overdue
 * by the grace time and that the real matcher and deliverer then carry it to the webhook.
 */

const GRACE_MS = 60_000;
const LONG_AGO = () => Date.now() - 10 * 60_000;
const EVENT_TYPE = 'sweeper.test';

interface Received {
  webhookId: string;
  eventIds: string[];
}

describe('pending sweeper: stranded events and deliveries are re-enqueued and delivered (real SQLite backends)', () => {
  let dataDir: string;
  let ctx: ServiceContext;
  let matcher: RunningMatcher;
  let deliverer: RunningDeliverer;
  let receiver: http.Server;
  let hookUrl: string;
  const received: Received[] = [];

  before(async () => {
    dataDir = makeTempDataDir();
    const config = loadConfig({
      TRIGGERS_DATA_DIR: dataDir,
      TRIGGERS_LOG_LEVEL: 'silent',
      TRIGGERS_SQLITE_SYNCHRONOUS: 'normal',
      // startMatcher's own sweeper ticks every grace/4 (15 min here): only the explicit sweepOnce
      // calls below can rescue anything, so each rescue is the sweeper's doing.
      TRIGGERS_PENDING_SWEEP_AFTER_MS: String(3_600_000),
      TRIGGERS_RETRY_BASE_MS: '50',
    });
    // createServiceContext builds the embedded backends: openSqliteBackends over `dataDir`.
    ctx = await createServiceContext(config, { service: 'sweeper-test' });
    matcher = startMatcher(ctx);
    deliverer = startDeliverer(ctx);
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const events = JSON.parse(Buffer.concat(chunks).toString()) as { event_id: string }[];
        received.push({ webhookId: String(req.headers['webhook-id']), eventIds: events.map((e) => e.event_id) });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
    hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });

  after(async () => {
    await Promise.all([matcher?.stop(), deliverer?.stop()]);
    await ctx?.backends.close();
    if (receiver) await new Promise<void>((resolve) => receiver.close(() => resolve()));
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** A customer with one active subscription to `EVENT_TYPE` that posts to the local receiver. */
  async function customerWithSubscription(): Promise<{ customerId: string; workflowId: string }> {
    const customerId = uniqueId();
    const workflowId = uniqueId();
    const now = Date.now();
    const store = ctx.backends.metadataStore;
    await store.createCustomer({ customerId, name: 'Sweeper', email: 'sweeper@example.test', status: 'active', rateLimitPerSecond: null, isTest: true, createdAt: now });
    await store.createSubscription(subscriptionRecord({ workflowId, customerId, eventSelector: { type: 'event_type', value: EVENT_TYPE }, webhookUrl: hookUrl, createdAt: now, updatedAt: now }));
    return { customerId, workflowId };
  }

  /** Stores a `pending` event through the EventStore alone: no `events` queue message is written. */
  async function storeWithoutMessage(customerId: string, timestamp: number): Promise<NewEvent> {
    const event: NewEvent = { eventId: uuidv7At(timestamp), customerId, payload: JsonText.of({ event_type: EVENT_TYPE, at: timestamp }), eventType: EVENT_TYPE, timestamp };
    await ctx.backends.eventStore.insertEvents([event]);
    return event;
  }

  const sweep = () => sweepOnce({ deliveryStore: ctx.backends.deliveryStore, queue: ctx.backends.queue, clock: ctx.clock, log: ctx.log, graceMs: GRACE_MS, intervalMs: GRACE_MS });

  async function statusOf(event: NewEvent): Promise<EventStatus | undefined> {
    return (await ctx.backends.eventStore.getEvent(event.customerId, event.eventId))?.status;
  }

  async function waitForStatus(event: NewEvent, status: EventStatus): Promise<void> {
    const deadline = Date.now() + 10_000;
    while ((await statusOf(event)) !== status) {
      if (Date.now() > deadline) assert.fail(`event ${event.eventId} is ${await statusOf(event)}, expected ${status}`);
      await sleep(20);
    }
  }

  /** Nothing but the sweeper can move it: the matcher and deliverer are running and idle. */
  async function assertStranded(event: NewEvent): Promise<void> {
    await sleep(300);
    assert.equal(await statusOf(event), 'pending');
    assert.ok(!received.some((r) => r.eventIds.includes(event.eventId)), 'nothing was delivered before the sweep');
  }

  const deliveriesOf = (event: NewEvent) => received.filter((r) => r.eventIds.includes(event.eventId));

  it('an event stored as pending whose events message was never sent is re-enqueued past the grace time, then matched and delivered', async () => {
    const { customerId, workflowId } = await customerWithSubscription();
    const stranded = await storeWithoutMessage(customerId, LONG_AGO());
    const recent = await storeWithoutMessage(customerId, Date.now()); // stranded too, but within the grace time
    assert.deepEqual(await ctx.backends.queue.depth('events'), { visible: 0, delayed: 0, inFlight: 0 }, 'no events message exists');
    await assertStranded(stranded);

    assert.deepEqual(await sweep(), { events: 1, deliveries: 0 }, 'only the event past the grace time is re-enqueued');
    await waitForStatus(stranded, 'delivered');

    assert.deepEqual(
      deliveriesOf(stranded).map((r) => r.webhookId),
      [deliveryIdFor(stranded.eventId, workflowId, undefined)],
      'delivered once, under the delivery id the matcher derives',
    );
    const [delivery] = await ctx.backends.deliveryStore.listDeliveries(customerId, stranded.eventId);
    assert.equal(delivery.status, 'succeeded');
    assert.equal(await statusOf(recent), 'pending', 'an event within the grace time is left alone');
    assert.deepEqual(await sweep(), { events: 0, deliveries: 0 }, 'nothing is left to sweep');
  });

  it('a pending delivery whose deliveries message was lost is re-enqueued once overdue past the grace time, and delivered', async () => {
    const { customerId, workflowId } = await customerWithSubscription();
    const at = LONG_AGO();
    const event = await storeWithoutMessage(customerId, at);
    // The matcher's write happened (a delivery due at `at`); its message to the deliverer did not.
    const deliveryId = deliveryIdFor(event.eventId, workflowId, undefined);
    await ctx.backends.deliveryStore.createDeliveries([{ deliveryId, eventId: event.eventId, customerId, workflowId, createdAt: at }]);
    assert.deepEqual(await ctx.backends.queue.depth('deliveries'), { visible: 0, delayed: 0, inFlight: 0 }, 'no deliveries message exists');
    await assertStranded(event);

    assert.deepEqual(await sweep(), { events: 0, deliveries: 1 }, 'the delivery is re-enqueued; the event, which has one, is not');
    await waitForStatus(event, 'delivered');
    assert.deepEqual(deliveriesOf(event).map((r) => r.webhookId), [deliveryId]);
    const attempts = await ctx.backends.eventStore.listAttempts(customerId, event.eventId);
    assert.deepEqual(attempts.map((a) => [a.attempt, a.status]), [[1, 'succeeded']]);
    assert.deepEqual(await sweep(), { events: 0, deliveries: 0 });
  });

  it("a replay's stranded delivery keeps its replay: swept, delivered, and counted in the replay's progress", async () => {
    const { customerId, workflowId } = await customerWithSubscription();
    const at = LONG_AGO();
    const event = await storeWithoutMessage(customerId, at);
    const replayId = uniqueId();
    // Its filter matches nothing now: the running matcher's replay runner completes it without enqueueing anything.
    await ctx.backends.replayStore.createReplay({ replayId, customerId, filter: { startTime: 0, endTime: 1 }, idempotencyKey: null, requestHash: null, createdAt: at });
    // The matcher made the replay's delivery; its deliveries message was lost.
    const deliveryId = deliveryIdFor(event.eventId, workflowId, replayId);
    await ctx.backends.deliveryStore.createDeliveries([{ deliveryId, eventId: event.eventId, customerId, workflowId, createdAt: at, replayId }]);
    await assertStranded(event);

    assert.deepEqual(await sweep(), { events: 0, deliveries: 1 });
    await waitForStatus(event, 'delivered');
    assert.deepEqual(deliveriesOf(event).map((r) => r.webhookId), [deliveryId]);
    const deadline = Date.now() + 5000;
    let counts = (await ctx.backends.replayStore.getReplay(customerId, replayId))?.counts;
    while (counts?.delivered !== 1 && Date.now() < deadline) {
      await sleep(20);
      counts = (await ctx.backends.replayStore.getReplay(customerId, replayId))?.counts;
    }
    assert.deepEqual(counts, { matched: 0, enqueued: 0, processed: 0, unmatched: 0, deliveries: 0, delivered: 1, failed: 0 }, 'the swept delivery counts for its replay (made directly here, not by the matcher)');
  });

  it('a delivery whose claimer died mid-attempt and whose message is gone is re-enqueued after its lease and the grace time, as the next attempt', async () => {
    const { customerId, workflowId } = await customerWithSubscription();
    const at = LONG_AGO();
    const event = await storeWithoutMessage(customerId, at);
    const deliveryId = deliveryIdFor(event.eventId, workflowId, undefined);
    await ctx.backends.deliveryStore.createDeliveries([{ deliveryId, eventId: event.eventId, customerId, workflowId, createdAt: at }]);
    // Attempt 1 was claimed (its lease ran out long ago) and its outcome never recorded.
    assert.equal(await ctx.backends.deliveryStore.incrementAttempts(deliveryId, 0, at, at + 35_000), true);
    // Another delivery claimed just now: its claimer may still be sending, so it must be left alone.
    const busy = await storeWithoutMessage(customerId, at);
    const busyId = deliveryIdFor(busy.eventId, workflowId, undefined);
    await ctx.backends.deliveryStore.createDeliveries([{ deliveryId: busyId, eventId: busy.eventId, customerId, workflowId, createdAt: at }]);
    assert.equal(await ctx.backends.deliveryStore.incrementAttempts(busyId, 0, Date.now(), Date.now() + 35_000), true);
    await assertStranded(event);

    assert.deepEqual(await sweep(), { events: 0, deliveries: 1 }, 'only the delivery whose lease has passed is re-enqueued');
    await waitForStatus(event, 'delivered');
    assert.deepEqual(deliveriesOf(event).map((r) => r.webhookId), [deliveryId], 'the same webhook-id as the lost attempt');
    const attempts = await ctx.backends.eventStore.listAttempts(customerId, event.eventId);
    assert.deepEqual(attempts.map((a) => [a.attempt, a.status]), [[2, 'succeeded']], 'made as attempt 2: the claimed attempt 1 counts as made');
    assert.equal(await statusOf(busy), 'pending');
    assert.deepEqual(deliveriesOf(busy), []);
  });
});

describe('pending sweeper: never copies a delivery whose message is still waiting in the queue', () => {
  let dataDir: string;
  let ctx: ServiceContext;
  before(async () => {
    dataDir = makeTempDataDir();
    // No matcher or deliverer: messages stay where they are.
    ctx = await createServiceContext(loadConfig({ TRIGGERS_DATA_DIR: dataDir, TRIGGERS_LOG_LEVEL: 'silent', TRIGGERS_SQLITE_SYNCHRONOUS: 'normal' }), { service: 'sweeper-backlog-test' });
  });
  after(async () => {
    await ctx?.backends.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('leaves an overdue delivery alone while its topic has a backlog (a jammed deliverer), and re-enqueues it once its message is gone', async () => {
    const at = LONG_AGO();
    const customerId = uniqueId();
    const workflowId = uniqueId();
    const eventId = uuidv7At(at);
    const deliveryId = deliveryIdFor(eventId, workflowId, undefined);
    const [delivery] = await ctx.backends.deliveryStore.createDeliveries([{ deliveryId, eventId, customerId, workflowId, createdAt: at }]);
    // Its message, sent when it was created, still waits behind a backlog: nobody received it.
    await ctx.backends.queue.send('deliveries', deliveryMessage(delivery, { delayMs: 0 }));
    const sweep = () => sweepOnce({ deliveryStore: ctx.backends.deliveryStore, queue: ctx.backends.queue, clock: ctx.clock, log: ctx.log, graceMs: GRACE_MS, intervalMs: GRACE_MS });

    assert.deepEqual(await sweep(), { events: 0, deliveries: 0 }, 'overdue by minutes, but its message is in the queue');
    assert.equal((await ctx.backends.queue.depth('deliveries')).visible, 1, 'no copy was added');

    // The message is lost (received and acked, as by a consumer that then crashed before its write).
    const [message] = await ctx.backends.queue.receive('deliveries', { maxMessages: 1, visibilityTimeoutMs: 60_000, waitTimeMs: 0 });
    await ctx.backends.queue.ack('deliveries', message.receipt);
    assert.deepEqual(await sweep(), { events: 0, deliveries: 1 }, 'now nothing waits for it: the sweeper re-enqueues it');
  });
});
