import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './test-server.ts';
import { startWebhookReceiver, waitForEventStatus, type WebhookReceiver } from '@triggers/testkit';

describe('all-in-one with the matcher and deliverer in a worker thread (TRIGGERS_EMBEDDED_PIPELINE=thread)', function () {
  let server: TestServer;
  let receiver: WebhookReceiver;

  before(async function () {
    server = await startTestServer({ TRIGGERS_EMBEDDED_PIPELINE: 'thread' });
    receiver = await startWebhookReceiver();
  });
  after(async function () {
    await receiver?.close();
    await server?.close();
  });

  it('delivers events accepted on the HTTP thread, promptly', async function () {
    const { apiKey } = await server.createCustomer();
    const sub = await server.request('POST', '/api/v1/subscriptions', {
      apiKey,
      json: { event_selector: { type: 'event_type', value: 'thread.*' }, webhook_url: receiver.url('/hook') },
    });
    assert.equal(sub.status, 201);
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const posted = await server.request('POST', '/api/v1/events', { apiKey, json: { payload: { event_type: 'thread.test', i } } });
      assert.equal(posted.status, 202);
      const acceptedAt = Date.now();
      await receiver.waitFor(i + 1, 5000);
      latencies.push(receiver.requests[i].receivedAt - acceptedAt);
      await waitForEventStatus(server, apiKey, posted.body.event_id, 'delivered', { timeoutMs: 5000 });
    }
    const median = [...latencies].sort((a, b) => a - b)[2];
    assert.ok(median < 100, `202 → receipt median ${median} ms (all: ${latencies.join(', ')})`);
  });

  it('reports the worker thread\'s matcher and deliverer metrics on /metrics, with one set of process metrics', async function () {
    const metrics = await server.request('GET', '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.text, /^triggers_matcher_events_total\{outcome="matched"\} \d+/m);
    assert.match(metrics.text, /^triggers_delivery_attempts_total\{outcome="succeeded"\} \d+/m);
    assert.equal(metrics.text.match(/^# TYPE process_cpu_user_seconds_total/gm)?.length, 1);
  });
});
