import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './test-server.ts';
import { createLogger, flushTracing, startTracing, stopTracing, type Logger } from '@triggers/core/runtime';
import { JsonText, uuidv7 } from '@triggers/core/domain';
import {
  newCustomer,
  postEvent,
  receiverPool,
  startOtlpReceiver,
  withEnv,
  subscribe,
  waitForEventStatus,
  waitUntil,
  countContextWithCalls,
  captureJsonLines,
  SPAN_KIND,
  type OtlpReceiver,
  type WebhookReceiver,
  type ReceivedSpan,
} from '@triggers/testkit';

/**
 * Issue 12, items 1 and 6 on the embedded all-in-one: ingest's HTTP span → enqueue → matcher →
 * deliverer → the webhook's HTTP client span form one trace per event, exported over OTLP/HTTP
 * JSON to an in-test receiver; the trace context rides in the queue messages (the SQLite queue's
 * message body).
 */

const PAYLOAD_MARKER = 'payload-marker-7f3c1e';

type Traced = { otlp: OtlpReceiver; server: TestServer; receivers: ReturnType<typeof receiverPool> };

/**
 * For a describe block: an OTLP receiver, tracing exporting to it, and an all-in-one with these
 * settings, all started before its tests and stopped after them. The fields are set in `before`.
 */
function tracedServer(settings?: Record<string, string>, otelEnv: Record<string, string> = {}, log?: Logger): Traced {
  const traced = { receivers: receiverPool() } as Traced;
  let restoreEnv: (() => void) | undefined;
  before(async () => {
    traced.otlp = await startOtlpReceiver();
    restoreEnv = withEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: traced.otlp.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '50', ...otelEnv });
    assert.equal(await startTracing({ serviceName: 'triggers-all-in-one' }), true);
    traced.server = await startTestServer(settings, { log });
  });
  after(async () => {
    await traced.receivers.closeAll();
    await traced.server?.close();
    await stopTracing();
    restoreEnv?.();
    await traced.otlp?.close();
  });
  return traced;
}

const byId = (spans: ReceivedSpan[]) => new Map(spans.map((s) => [s.spanId, s]));
const named = (spans: ReceivedSpan[], name: string) => spans.filter((s) => s.name === name);

/** The trace of a posted event: found by its id on the ingest request's span (which did the enqueue). */
async function traceOfEvent(traced: Traced, eventId: string, done: (spans: ReceivedSpan[]) => boolean): Promise<ReceivedSpan[]> {
  await flushTracing();
  const [send] = await traced.otlp.waitForSpans((s) => s.name === 'POST /api/v1/events' && s.attributes['triggers.event_id'] === eventId, 1);
  await flushTracing();
  return traced.otlp.waitForTrace(send.traceId, done);
}

/** Walks up from `span` to the root: the names on the way. */
function ancestry(span: ReceivedSpan, spans: ReceivedSpan[]): string[] {
  const index = byId(spans);
  const names: string[] = [];
  for (let s: ReceivedSpan | undefined = span; s; s = index.get(s.parentSpanId)) names.push(s.name);
  return names;
}

describe('One trace per event through the embedded all-in-one (OTLP/HTTP JSON)', function () {
  this.timeout(60_000);
  const traced = tracedServer({ TRIGGERS_RETRY_BASE_MS: '50', TRIGGERS_WEBHOOK_TRACEPARENT: 'true' });

  const traceOf = (eventId: string, done: (spans: ReceivedSpan[]) => boolean) => traceOfEvent(traced, eventId, done);

  it('a fan-out to three subscriptions is one trace with three delivery branches', async () => {
    const { apiKey, customerId, eventType } = await newCustomer(traced.server);
    const receiver = await traced.receivers.start();
    const subscriptions = [];
    for (let i = 0; i < 3; i++) subscriptions.push(await subscribe(traced.server, apiKey, eventType, receiver.url(`/hook-${i}`)));
    const posted = await postEvent(traced.server, apiKey, { event_type: eventType, marker: PAYLOAD_MARKER });
    await waitForEventStatus(traced.server, apiKey, posted.event_id, 'delivered');

    const spans = await traceOf(posted.event_id, (s) => named(s, 'POST').length === 3 && named(s, 'process deliveries').length === 3);
    const [ingest] = named(spans, 'POST /api/v1/events');
    assert.ok(ingest, `an ingest server span among ${spans.map((s) => s.name).join(', ')}`);
    assert.equal(ingest.kind, SPAN_KIND.server);
    assert.equal(ingest.parentSpanId, '', 'the trace starts at ingest');
    assert.equal(ingest.attributes['http.request.method'], 'POST');
    assert.equal(ingest.attributes['http.route'], '/api/v1/events');
    assert.equal(ingest.attributes['http.response.status_code'], 202);

    // The enqueue makes no span of its own: the request's span carries the send's attributes.
    assert.equal(named(spans, 'send events').length, 0, 'one span per ingest request');
    assert.equal(ingest.attributes['messaging.destination.name'], 'events');
    assert.equal(ingest.attributes['messaging.operation.type'], 'send');
    assert.equal(ingest.attributes['messaging.system'], 'sqlite');
    assert.equal(ingest.attributes['triggers.customer_id'], customerId);
    assert.equal(ingest.attributes['triggers.event_id'], posted.event_id);

    const [match] = named(spans, 'process events');
    assert.equal(match.kind, SPAN_KIND.consumer);
    assert.equal(match.parentSpanId, ingest.spanId, 'the matcher continues the context carried by the events message');
    assert.equal(match.attributes['triggers.event_id'], posted.event_id);
    assert.equal(match.attributes['triggers.matched_subscriptions'], 3);

    const [fanOut] = named(spans, 'send deliveries');
    assert.equal(fanOut.parentSpanId, match.spanId);
    assert.equal(fanOut.attributes['messaging.batch.message_count'], 3);

    const deliveries = named(spans, 'process deliveries');
    assert.deepEqual(deliveries.map((d) => d.parentSpanId), [fanOut.spanId, fanOut.spanId, fanOut.spanId], 'three branches under the fan-out');
    assert.deepEqual(deliveries.map((d) => d.attributes['triggers.subscription_id']).sort(), subscriptions.map((s) => s.workflow_id).sort());
    for (const d of deliveries) {
      assert.equal(d.attributes['triggers.event_id'], posted.event_id);
      assert.equal(d.attributes['triggers.customer_id'], customerId);
      assert.equal(d.attributes['triggers.attempt'], 1);
      assert.equal(d.attributes['triggers.outcome'], 'succeeded');
      assert.equal(d.attributes['messaging.operation.type'], 'process');
    }
    const requests = named(spans, 'POST');
    for (const request of requests) {
      assert.equal(request.kind, SPAN_KIND.client);
      assert.deepEqual(ancestry(request, spans), ['POST', 'process deliveries', 'send deliveries', 'process events', 'POST /api/v1/events']);
      assert.equal(request.attributes['http.response.status_code'], 200);
      assert.equal(request.attributes['server.address'], '127.0.0.1');
      assert.equal(request.attributes['server.port'], receiver.port);
      assert.equal(request.attributes['url.path'], undefined, 'no path: it may hold a receiver token');
    }
    assert.ok(new Set(spans.map((s) => s.traceId)).size === 1);

    // TRIGGERS_WEBHOOK_TRACEPARENT is on here: each request carried its client span's context.
    const sent = receiver.requests.map((r) => r.headers.traceparent);
    assert.deepEqual(sent.sort(), requests.map((r) => `00-${r.traceId}-${r.spanId}-01`).sort());

    // Never payloads, secrets or keys.
    const exported = traced.otlp.bodies.join('\n');
    assert.ok(!exported.includes(PAYLOAD_MARKER), 'no payload in any span');
    assert.ok(!exported.includes(apiKey), 'no API key');
    for (const s of subscriptions) assert.ok(!exported.includes(s.secret), 'no signing secret');
    assert.ok(!exported.includes('/hook-'), 'no webhook path');
  });

  it('a retry is a new attempt span in the same trace', async () => {
    const { apiKey, eventType } = await newCustomer(traced.server);
    const receiver = await traced.receivers.start({ answers: [{ status: 503 }] });
    await subscribe(traced.server, apiKey, eventType, receiver.url());
    const posted = await postEvent(traced.server, apiKey, { event_type: eventType });
    await waitForEventStatus(traced.server, apiKey, posted.event_id, 'delivered');

    const spans = await traceOf(posted.event_id, (s) => named(s, 'process deliveries').filter((d) => d.attributes['triggers.outcome']).length === 2);
    const attempts = named(spans, 'process deliveries').filter((d) => d.attributes['triggers.outcome']).sort((a, b) => Number(a.startNanos - b.startNanos));
    assert.deepEqual(attempts.map((a) => [a.attributes['triggers.attempt'], a.attributes['triggers.outcome']]), [[1, 'retry'], [2, 'succeeded']]);
    assert.equal(attempts[1].parentSpanId, attempts[0].spanId, 'the retry continues from the attempt that scheduled it');
    const requests = named(spans, 'POST').sort((a, b) => Number(a.startNanos - b.startNanos));
    assert.deepEqual(requests.map((r) => r.attributes['http.response.status_code']), [503, 200]);
    assert.equal(requests[0].statusCode, 2, 'the 503 attempt is an error span');
  });

  it('a replay is one trace from the replay request to the new delivery', async () => {
    const { apiKey, eventType } = await newCustomer(traced.server);
    const receiver = await traced.receivers.start();
    await subscribe(traced.server, apiKey, eventType, receiver.url());
    const posted = await postEvent(traced.server, apiKey, { event_type: eventType });
    await waitForEventStatus(traced.server, apiKey, posted.event_id, 'delivered');
    const replay = await traced.server.request('POST', `/api/v1/events/${posted.event_id}/replay`, { apiKey });
    assert.equal(replay.status, 202, replay.text);
    await receiver.waitFor(2);

    await flushTracing();
    const [request] = await traced.otlp.waitForSpans((s) => s.name === 'POST /api/v1/events/:event_id/replay' && s.attributes['http.response.status_code'] === 202, 1);
    const spans = await traced.otlp.waitForTrace(request.traceId, (all) => named(all, 'POST').length === 1);
    const [webhook] = named(spans, 'POST');
    assert.deepEqual(ancestry(webhook, spans), ['POST', 'process deliveries', 'send deliveries', 'process events', 'POST /api/v1/events/:event_id/replay']);
    assert.equal(named(spans, 'POST /api/v1/events').length, 0, 'the original ingest is another trace');
  });

  it('continues a trace the client started (its traceparent header)', async () => {
    const { apiKey, eventType } = await newCustomer(traced.server);
    const clientTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const response = await traced.server.request('POST', '/api/v1/events', {
      apiKey,
      json: { payload: { event_type: eventType } },
      headers: { traceparent: `00-${clientTrace}-00f067aa0ba902b7-01` },
    });
    assert.equal(response.status, 202);
    const spans = await traceOf(response.body.event_id, (s) => named(s, 'process events').length === 1);
    const [ingest] = named(spans, 'POST /api/v1/events');
    assert.equal(ingest.traceId, clientTrace);
    assert.equal(ingest.parentSpanId, '00f067aa0ba902b7');
  });
});

describe('Group commit with tracing on: events of several requests in one events message', function () {
  this.timeout(60_000);
  const traced = tracedServer();

  it('the matcher\'s group span starts its own trace; each event\'s deliveries continue the trace of the request that accepted it', async () => {
    const { apiKey, customerId, eventType } = await newCustomer(traced.server);
    const receiver = await traced.receivers.start();
    await subscribe(traced.server, apiKey, eventType, receiver.url());
    // Ten single-event acceptances in one turn of the event loop (one group commit, one message),
    // each from a request of its own trace, as concurrent traced POST /api/v1/events make them.
    const requests = Array.from({ length: 10 }, (_, i) => ({
      traceId: (i + 1).toString(16).padStart(2, '0').repeat(16),
      spanId: (i + 1).toString(16).padStart(2, '0').repeat(8),
      event: { eventId: uuidv7(Date.now()), customerId, payload: JsonText.of({ event_type: eventType, n: i }), eventType, timestamp: Date.now() },
    }));
    const acceptor = traced.server.server.ctx.backends.eventAcceptor;
    await Promise.all(requests.map((r) => acceptor.accept({ events: [r.event], traceparent: `00-${r.traceId}-${r.spanId}-01` })));
    for (const r of requests) await waitForEventStatus(traced.server, apiKey, r.event.eventId, 'delivered');

    await flushTracing();
    const [group] = await traced.otlp.waitForSpans((s) => s.name === 'process events' && s.attributes['triggers.customer_id'] === customerId, 1);
    assert.equal(group.attributes['triggers.event_count'], 10, 'one message for the ten events');
    assert.equal(group.parentSpanId, '', 'a group of several traces starts its own (linked to theirs)');
    for (const r of requests) {
      const spans = await traced.otlp.waitForTrace(r.traceId, (all) => named(all, 'POST').length === 1);
      const [webhook] = named(spans, 'POST');
      assert.deepEqual(ancestry(webhook, spans), ['POST', 'process deliveries', 'send deliveries']);
      const [fanOut] = named(spans, 'send deliveries');
      assert.equal(fanOut.parentSpanId, r.spanId, 'the deliveries continue the accepting request\'s span');
      assert.equal(named(spans, 'process deliveries')[0].attributes['triggers.event_id'], r.event.eventId);
    }
  });
});

describe('Ingest and matching pass their spans on explicitly (issue 12 item 7: tracing\'s cost)', function () {
  this.timeout(60_000);
  // No export while counting: this test's JSON exporter is the SDK's, whose batch processor runs
  // each export in context.with (the default exporter's does not: telemetry/tracing.test.ts).
  const traced = tracedServer(undefined, { OTEL_BSP_SCHEDULE_DELAY: '60000' });

  it('accepting and matching single events makes no context.with (so Node never turns AsyncLocalStorage\'s hooks on), and the trace is whole', async () => {
    const { apiKey, customerId, eventType } = await newCustomer(traced.server);
    const posted: string[] = [];
    const withCalls = await countContextWithCalls(async () => {
      for (let i = 0; i < 3; i++) posted.push((await postEvent(traced.server, apiKey, { event_type: eventType, n: i })).event_id);
      // Read from the store, not through the API (its read routes run in their request's context).
      const events = traced.server.server.ctx.backends.eventStore;
      await waitUntil(async () => (await Promise.all(posted.map((id) => events.getEvent(customerId, id)))).every((e) => e?.status === 'unmatched'), { timeoutMs: 20_000, what: 'the events to be matched (unmatched)' });
    });
    assert.equal(withCalls, 0, 'no context.with on the ingest and matching paths');

    const spans = await traceOfEvent(traced, posted[0], (s) => named(s, 'process events').length === 1);
    const [ingest] = named(spans, 'POST /api/v1/events');
    const [match] = named(spans, 'process events');
    assert.equal(ingest.parentSpanId, '');
    assert.equal(ingest.attributes['http.response.status_code'], 202);
    assert.equal(ingest.attributes['server.port'], traced.server.server.port);
    assert.equal(ingest.attributes['triggers.customer_id'], customerId);
    assert.deepEqual(spans.map((s) => s.name).sort(), ['POST /api/v1/events', 'process events'], 'one span per ingest request, one per match');
    assert.equal(match.parentSpanId, ingest.spanId);
    assert.equal(match.attributes['triggers.matched_subscriptions'], 0);
  });
});

/** A logger writing JSON lines to memory, and the lines written so far. */
function capturedLog(): { log: Logger; lines: () => Record<string, unknown>[] } {
  const { stream, lines } = captureJsonLines();
  return { log: createLogger({ level: 'debug', service: 'all-in-one', destination: stream }), lines };
}

describe('No traced process runs work in an active context: API routes and the deliverer pass their spans on too (issue 12 item 7)', function () {
  this.timeout(60_000);
  const logs = capturedLog();
  // No export while counting (see above); TRIGGERS_WEBHOOK_TRACEPARENT on: the client span's own context goes out.
  const traced = tracedServer({ TRIGGERS_RETRY_BASE_MS: '50', TRIGGERS_WEBHOOK_TRACEPARENT: 'true' }, { OTEL_BSP_SCHEDULE_DELAY: '60000' }, logs.log);

  it('admin and API routes, ingest, a retried and a batched delivery, and a replay make no context.with; the traces are whole and every log line in a span carries its ids', async () => {
    let customer!: Awaited<ReturnType<typeof newCustomer>>;
    let posted!: { event_id: string };
    let batched!: { event_id: string };
    let retried!: WebhookReceiver;
    let batching!: WebhookReceiver;
    let replayId = '';
    const withCalls = await countContextWithCalls(async () => {
      customer = await newCustomer(traced.server); // POST /admin/test-customer
      const patched = await traced.server.request('PATCH', `/admin/customers/${customer.customerId}`, { admin: true, json: { rate_limit_per_second: 1000 } });
      assert.equal(patched.status, 200, patched.text);
      retried = await traced.receivers.start({ answers: [{ status: 503 }] });
      batching = await traced.receivers.start();
      await subscribe(traced.server, customer.apiKey, customer.eventType, retried.url()); // POST /api/v1/subscriptions
      const batchType = `${customer.eventType}.batched`;
      const created = await traced.server.request('POST', '/api/v1/subscriptions', {
        apiKey: customer.apiKey,
        json: { event_selector: { type: 'event_type', value: batchType }, webhook_url: batching.url(), batch: { max_events: 10, window_ms: 50 } },
      });
      assert.equal(created.status, 201, created.text);
      posted = await postEvent(traced.server, customer.apiKey, { event_type: customer.eventType });
      batched = await postEvent(traced.server, customer.apiKey, { event_type: batchType });
      await waitForEventStatus(traced.server, customer.apiKey, posted.event_id, 'delivered'); // GET /api/v1/events/:event_id
      await waitForEventStatus(traced.server, customer.apiKey, batched.event_id, 'delivered');
      const replay = await traced.server.request('POST', `/api/v1/events/${posted.event_id}/replay`, { apiKey: customer.apiKey });
      assert.equal(replay.status, 202, replay.text);
      replayId = replay.body.replay_id;
      await retried.waitFor(3); // 503, 200, the replay's 200
      await batching.waitFor(1);
    });
    assert.equal(withCalls, 0, 'no context.with anywhere: routes, matcher and deliverer all pass their spans on');

    // One trace per event, whole: ingest → match → fan-out → attempt → webhook client span.
    const spans = await traceOfEvent(traced, posted.event_id, (s) => named(s, 'POST').length === 2);
    const attempts = named(spans, 'process deliveries').sort((a, b) => Number(a.startNanos - b.startNanos));
    assert.deepEqual(attempts.map((a) => [a.attributes['triggers.attempt'], a.attributes['triggers.outcome']]), [[1, 'retry'], [2, 'succeeded']]);
    assert.equal(attempts[1].parentSpanId, attempts[0].spanId, 'the retry continues from the attempt that scheduled it');
    const requests = named(spans, 'POST').sort((a, b) => Number(a.startNanos - b.startNanos));
    assert.deepEqual(ancestry(requests[0], spans), ['POST', 'process deliveries', 'send deliveries', 'process events', 'POST /api/v1/events']);
    assert.deepEqual(ancestry(requests[1], spans), ['POST', 'process deliveries', 'process deliveries', 'send deliveries', 'process events', 'POST /api/v1/events']);
    const sentFirst = retried.requests.slice(0, 2).map((r) => r.headers.traceparent);
    assert.deepEqual(sentFirst, requests.map((r) => `00-${r.traceId}-${r.spanId}-01`), 'each webhook request carried its client span\'s context');

    const batchSpans = await traceOfEvent(traced, batched.event_id, (s) => named(s, 'POST').length === 1);
    assert.deepEqual(ancestry(named(batchSpans, 'POST')[0], batchSpans), ['POST', 'process deliveries', 'send deliveries', 'process events', 'POST /api/v1/events'], 'a batched request continues its first member\'s trace');

    const [replayRequest] = await traced.otlp.waitForSpans((s) => s.name === 'POST /api/v1/events/:event_id/replay', 1);
    const replaySpans = await traced.otlp.waitForTrace(replayRequest.traceId, (all) => named(all, 'POST').length === 1);
    assert.deepEqual(ancestry(named(replaySpans, 'POST')[0], replaySpans), ['POST', 'process deliveries', 'send deliveries', 'process events', 'POST /api/v1/events/:event_id/replay']);

    // Log lines written while a request or a delivery is handled carry its span's ids.
    const lines = logs.lines();
    const spanOfLine = async (message: string, where: (line: Record<string, unknown>) => boolean = () => true) => {
      const line = lines.find((l) => l.msg === message && where(l));
      assert.ok(line, `a log line "${message}" among ${lines.map((l) => l.msg).join(' | ')}`);
      assert.match(String(line.trace_id), /^[0-9a-f]{32}$/, `"${message}" carries trace_id`);
      const [span] = await traced.otlp.waitForSpans((s) => s.spanId === line.span_id, 1);
      assert.equal(span.traceId, line.trace_id);
      return span.name;
    };
    assert.equal(await spanOfLine('Created test customer', (l) => l.customerId === customer.customerId), 'POST /admin/test-customer');
    assert.equal(await spanOfLine('Issued API key', (l) => l.customerId === customer.customerId), 'POST /admin/test-customer');
    assert.equal(await spanOfLine('Updated customer', (l) => l.customerId === customer.customerId), 'PATCH /admin/customers/:customer_id');
    assert.equal(await spanOfLine('Created subscription', (l) => l.customerId === customer.customerId), 'POST /api/v1/subscriptions');
    assert.equal(await spanOfLine('Enqueued replay', (l) => l.replayId === replayId), 'POST /api/v1/events/:event_id/replay');
    assert.equal(await spanOfLine('Scheduled retry'), 'process deliveries');
  });
});

describe('The webhook request carries traceparent only when TRIGGERS_WEBHOOK_TRACEPARENT is on', function () {
  this.timeout(60_000);
  const traced = tracedServer(); // TRIGGERS_WEBHOOK_TRACEPARENT: the default, off

  it('off by default: traced, but the receiver sees no trace header', async () => {
    const { apiKey, eventType } = await newCustomer(traced.server);
    const receiver = await traced.receivers.start();
    await subscribe(traced.server, apiKey, eventType, receiver.url());
    const posted = await postEvent(traced.server, apiKey, { event_type: eventType });
    await waitForEventStatus(traced.server, apiKey, posted.event_id, 'delivered');
    await flushTracing();
    await traced.otlp.waitForSpans((s) => s.name === 'POST' && s.attributes['triggers.customer_id'] !== undefined, 1);
    assert.equal(receiver.requests.length, 1);
    assert.equal(receiver.requests[0].headers.traceparent, undefined);
    assert.equal(receiver.requests[0].headers.tracestate, undefined);
  });
});
