import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runOpenLoop } from './open-loop.ts';
import { lowerBound, perSecondBuckets, rateBetween, startReceiver, type Receiver } from './receiver-client.ts';
import { webhookBodyParts } from './payloads.ts';
import { liveChildren } from './children.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The delivery scenarios' building blocks: arrival-rate arithmetic, the open-loop schedule, the receiver. */
describe('bench: delivery scenario helpers', function () {
  this.timeout(30_000);

  it('counts arrivals in half-open windows of sorted times', () => {
    const times = Float64Array.from([0, 100, 200, 999, 1000, 1500, 2000, 2999]);
    assert.equal(lowerBound(times, 1000), 4);
    assert.equal(lowerBound(times, -1), 0);
    assert.equal(lowerBound(times, 5000), times.length);
    assert.deepEqual(rateBetween(times, 0, 1000), { count: 4, perSecond: 4 });
    assert.deepEqual(rateBetween(times, 1000, 3000), { count: 4, perSecond: 2 });
    assert.deepEqual(rateBetween(times, 10, 10), { count: 0, perSecond: 0 });
    assert.deepEqual(perSecondBuckets(times, 0, 3000), [4, 2, 2]);
  });

  it('sends on a fixed schedule whether or not earlier requests were answered', async () => {
    // Every response takes 100 ms and there are 4 connections: answers can come at most 40/s,
    // yet requests must still be handed over at 200/s (undici queues what the pool cannot send).
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => setTimeout(() => res.end('{"event_id":"x"}'), 100));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const accepted: number[] = [];
      const run = await runOpenLoop({
        origin,
        connections: 4,
        ratePerSecond: 200,
        total: 100,
        request: () => ({ method: 'POST', path: '/', body: '{}' }),
        expectStatus: 200,
        onAccepted: (i) => accepted.push(i),
      });
      assert.equal(run.issued, 100);
      assert.equal(run.accepted, 100);
      assert.equal(accepted.length, 100);
      assert.ok(Math.abs(run.dueAt[99] - run.dueAt[0] - 495) < 1e-6, '100 requests at 200/s are due over 495 ms');
      for (let i = 0; i < 100; i++) {
        assert.ok(run.sentAt[i] >= run.dueAt[i] - 1e-6, 'never sent before its due time');
        assert.ok(run.sentAt[i] - run.dueAt[i] < 250, `request ${i} handed over ${run.sentAt[i] - run.dueAt[i]} ms late`);
      }
      // The answers queued behind 4 connections: the last one ~2.5 s after the start.
      assert.ok(run.lastAnsweredAt - run.startedAt >= 2400, `last answer after ${run.lastAnsweredAt - run.startedAt} ms`);
    } finally {
      server.close();
    }
  });

  describe('the receiver (its own process)', () => {
    let receiver: Receiver | undefined;
    before(async () => {
      receiver = await startReceiver(ROOT, { echo: false });
    });
    after(async () => {
      await receiver?.stop();
      assert.equal(liveChildren(), 0);
    });

    it('records the first arrival of every event id, counts duplicates and answers 200 at once', async () => {
      const r = receiver!;
      await r.reset();
      const [head, tail] = webhookBodyParts(7);
      const post = (body: string) => fetch(r.url(), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const one = await post(`${head}id-1${tail}`);
      assert.equal(one.status, 200);
      assert.equal(await one.text(), '');
      await post(`[{"event_id":"id-2","payload":{}},{"event_id":"id-3","payload":{}}]`); // a batch
      await post(`${head}id-1${tail}`); // a duplicate
      await post('not a webhook');
      const stats = await r.stats();
      assert.equal(stats.requests, 4);
      assert.equal(stats.unique, 3);
      assert.equal(stats.duplicates, 1);
      assert.equal(stats.requestsWithoutIds, 1);
      const records = await r.records();
      assert.deepEqual(records.ids, ['id-1', 'id-2', 'id-3']);
      const times = await r.times();
      assert.equal(times.length, 3);
      assert.ok(times[0] <= times[1] && times[1] <= times[2]);
      const clock = await r.clockOffset(5);
      assert.ok(Math.abs(clock.offsetMs) < 50, `clock offset ${clock.offsetMs} ms`);
      await r.reset();
      assert.equal((await r.stats()).unique, 0);
    });
  });
});
