import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import type { Queue } from '../ports/queue.ts';
import { createSqliteQueue } from '../backends/sqlite/queue.ts';
import { temporaryDatabases } from '../backends/sqlite/testing.ts';
import { registerQueueMetrics } from './queue-metrics.ts';

/** The value of one sample in Prometheus text, or undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('Queue metrics (depth and dead letters as gauges read on scrape)', function () {
  const databases = temporaryDatabases();
  after(() => databases.closeAll());

  async function sqliteQueue(maxReceives = 1): Promise<Queue> {
    return createSqliteQueue(await databases.open(), { maxReceives });
  }

  it('exports visible, delayed and in-flight messages and dead letters per queue', async function () {
    const queue = await sqliteQueue();
    const registry = new Registry();
    registerQueueMetrics(queue, { registry, maxAgeMs: 0 });
    await queue.sendBatch('events', [{ body: { n: 1 } }, { body: { n: 2 } }, { body: { n: 3 } }]);
    await queue.send('events', { body: { n: 4 }, delayMs: 60_000 });
    const [received] = await queue.receive('events', { maxMessages: 1, visibilityTimeoutMs: 60_000, waitTimeMs: 0 });
    // One delivery message received past maxReceives (1): it moves to the dead-letter queue.
    await queue.send('deliveries', { body: { d: 1 } });
    const [once] = await queue.receive('deliveries', { maxMessages: 1, visibilityTimeoutMs: 60_000, waitTimeMs: 0 });
    await queue.nack('deliveries', once.receipt, 0);
    assert.deepEqual(await queue.receive('deliveries', { maxMessages: 1, visibilityTimeoutMs: 60_000, waitTimeMs: 0 }), []);

    const text = await registry.metrics();
    assert.equal(sample(text, 'triggers_queue_messages{queue="events",state="visible"}'), 2);
    assert.equal(sample(text, 'triggers_queue_messages{queue="events",state="delayed"}'), 1);
    assert.equal(sample(text, 'triggers_queue_messages{queue="events",state="in_flight"}'), 1);
    assert.equal(sample(text, 'triggers_queue_messages{queue="deliveries",state="visible"}'), 0);
    assert.equal(sample(text, 'triggers_queue_dead_letter_messages{queue="deliveries"}'), 1);
    assert.equal(sample(text, 'triggers_queue_dead_letter_messages{queue="events"}'), 0);

    await queue.ack('events', received.receipt);
    const after = await registry.metrics();
    assert.equal(sample(after, 'triggers_queue_messages{queue="events",state="in_flight"}'), 0, 'a fresh reading once maxAgeMs has passed');
  });

  it('reads the backend once per maxAgeMs, however many scrapes come', async function () {
    const queue = await sqliteQueue();
    let depthCalls = 0;
    const counting = Object.create(queue, { depth: { value: (topic: 'events' | 'deliveries') => (depthCalls++, queue.depth(topic)) } }) as Queue;
    let now = 1_000_000;
    const registry = new Registry();
    registerQueueMetrics(counting, { registry, maxAgeMs: 5000, now: () => now });
    await Promise.all([registry.metrics(), registry.metrics(), registry.metrics()]);
    assert.equal(depthCalls, 2, 'one reading (two topics) for three concurrent scrapes');
    await queue.send('events', { body: {} });
    now += 4999;
    assert.equal(sample(await registry.metrics(), 'triggers_queue_messages{queue="events",state="visible"}'), 0, 'served from the cache');
    assert.equal(depthCalls, 2);
    now += 1;
    assert.equal(sample(await registry.metrics(), 'triggers_queue_messages{queue="events",state="visible"}'), 1);
    assert.equal(depthCalls, 4);
  });

  it('answers a scrape within timeoutMs with the last reading when the backend is slow', async function () {
    const queue = await sqliteQueue();
    let slow = false;
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const slowQueue = Object.create(queue, {
      depth: { value: async (topic: 'events' | 'deliveries') => (slow && (await released), queue.depth(topic)) },
    }) as Queue;
    const registry = new Registry();
    registerQueueMetrics(slowQueue, { registry, maxAgeMs: 0, timeoutMs: 100 });
    await queue.send('events', { body: {} });
    assert.equal(sample(await registry.metrics(), 'triggers_queue_messages{queue="events",state="visible"}'), 1);
    slow = true;
    await queue.send('events', { body: {} });
    const started = Date.now();
    const text = await registry.metrics();
    assert.ok(Date.now() - started < 600, `scrape took ${Date.now() - started} ms`);
    assert.equal(sample(text, 'triggers_queue_messages{queue="events",state="visible"}'), 1, 'the last reading');
    release();
    assert.equal(sample(await registry.metrics(), 'triggers_queue_messages{queue="events",state="visible"}'), 2, 'the slow reading, once it came');
  });

  it('exports nothing (rather than zeros) before a first reading succeeds', async function () {
    const queue = await sqliteQueue();
    const failing = Object.create(queue, { depth: { value: () => Promise.reject(new Error('engine down')) } }) as Queue;
    const errors: unknown[] = [];
    const registry = new Registry();
    registerQueueMetrics(failing, { registry, maxAgeMs: 0, onError: (e) => errors.push(e) });
    const text = await registry.metrics();
    assert.equal(sample(text, 'triggers_queue_messages{queue="events",state="visible"}'), undefined);
    assert.equal(errors.length, 1);
  });
});
