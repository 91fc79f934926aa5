import assert from 'node:assert/strict';
import { httpClient, type HttpClient } from '@triggers/core/testing';
import {
  engineAddresses,
  newCustomer,
  postEvent,
  prepareBackends,
  requireEngine,
  startOtlpReceiver,
  startServiceProcesses,
  startWebhookReceiver,
  subscribe,
  waitForEventStatus,
  DYNAMODB,
  KAFKA,
  POSTGRES,
  REDIS,
  SQS,
  SPAN_KIND,
  type BackendChoice,
  type EngineRequirement,
  type OtlpReceiver,
  type PreparedBackends,
  type ReceivedSpan,
  type ServiceProcesses,
  type WebhookReceiver,
} from '@triggers/testkit';

/**
 * Issue 12, item 6: the four services as separate processes on PostgreSQL + Redis + Kafka (and on
 * SQS + DynamoDB), each exporting to one in-test OTLP/HTTP receiver, produce one trace per event
 * with spans from ingest, matcher and deliverer: the W3C context crossed two queues inside the
 * messages (their body's `traceparent` field). The deliverer's log lines written inside its spans
 * carry the trace's ids.
 */

const STATUS_TIMEOUT_MS = 30_000;

const COMBINATIONS: { title: string; label: string; choice: BackendChoice; engines: EngineRequirement[]; system: string }[] = [
  {
    title: 'PostgreSQL + Redis + Kafka',
    label: 'e2e-trace-kafka',
    choice: { eventStore: 'postgres', metadataStore: 'postgres', queue: 'kafka', cache: 'redis' },
    engines: [POSTGRES, REDIS, KAFKA],
    system: 'kafka',
  },
  {
    title: 'PostgreSQL + Redis + SQS (ElasticMQ) + DynamoDB',
    label: 'e2e-trace-sqs',
    choice: { eventStore: 'dynamodb', metadataStore: 'postgres', queue: 'sqs', cache: 'redis' },
    engines: [POSTGRES, REDIS, DYNAMODB, SQS],
    system: 'aws_sqs',
  },
];

for (const combination of COMBINATIONS) {
  describe(`distributed tracing: four processes on ${combination.title}, one trace per event`, function () {
    this.timeout(STATUS_TIMEOUT_MS + 30_000);
    for (const engine of combination.engines) requireEngine(engine);

    let backends: PreparedBackends | undefined;
    let services: ServiceProcesses | undefined;
    let otlp: OtlpReceiver;
    let hook: WebhookReceiver;
    let ingest: HttpClient;
    let inbox: HttpClient;
    let failed = false;

    before(async function () {
      this.timeout(240_000);
      otlp = await startOtlpReceiver();
      hook = await startWebhookReceiver({ answers: [{ status: 500 }] });
      backends = await prepareBackends(combination.choice, engineAddresses(), combination.label);
      services = await startServiceProcesses({
        startTimeoutMs: 180_000, // four processes compiling at once: slow on a busy 2-core machine
        env: {
          ...backends.env,
          TRIGGERS_RETRY_BASE_MS: '200',
          TRIGGERS_MAX_ATTEMPTS: '3',
          TRIGGERS_DEMO: '0',
          OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_BSP_SCHEDULE_DELAY: '100',
        },
        // The deliverer's "Scheduled retry" line is written at debug, inside the attempt's span.
        envFor: { deliverer: { TRIGGERS_LOG_LEVEL: 'debug' } },
      });
      ingest = httpClient(services.ingest.url);
      inbox = httpClient(services.inbox.url, services.adminToken);
    });
    afterEach(function () {
      if (this.currentTest?.state === 'failed') failed = true;
    });
    after(async function () {
      this.timeout(60_000);
      if (failed && services) process.stderr.write(`\n${combination.title}: service output\n${services.diagnostics()}\n`);
      await services?.stop();
      await backends?.cleanup();
      await hook?.close();
      await otlp?.close();
    });

    it('ingest → queue → matcher → queue → deliverer → webhook is one trace across three processes, retry included', async () => {
      const customer = await newCustomer(inbox);
      const subscription = await subscribe(inbox, customer.apiKey, customer.eventType, hook.url());
      const eventId = (await postEvent(ingest, customer.apiKey, { event_type: customer.eventType })).event_id;
      await waitForEventStatus(inbox, customer.apiKey, eventId, 'delivered', { timeoutMs: STATUS_TIMEOUT_MS, intervalMs: 100, until: (e) => e.attempts.length === 2 });

      const [accepted] = await otlp.waitForSpans((s) => s.name === 'POST /api/v1/events' && s.attributes['triggers.event_id'] === eventId, 1, 15_000);
      // Both webhook requests and both attempt spans: an attempt's span ends after its request's.
      const attemptSpans = (all: ReceivedSpan[]) => all.filter((s) => s.name === 'process deliveries' && s.attributes['triggers.outcome']).length;
      const spans = await otlp.waitForTrace(accepted.traceId, (all) => all.filter((s) => s.name === 'POST').length === 2 && attemptSpans(all) === 2, 15_000);
      const one = (name: string): ReceivedSpan => {
        const found = spans.filter((s) => s.name === name);
        assert.equal(found.length, 1, `one ${name} span among ${spans.map((s) => `${s.service}:${s.name}`).join(', ')}`);
        return found[0];
      };
      const server = one('POST /api/v1/events');
      assert.equal(server.spanId, accepted.spanId);
      assert.equal(spans.filter((s) => s.name === 'send events').length, 0, 'the ingest request\'s span is the enqueue\'s (one span per request)');
      assert.equal(server.attributes['messaging.destination.name'], 'events');
      const match = one('process events');
      const fanOut = one('send deliveries');
      assert.equal(server.service, 'triggers-ingest');
      assert.equal(match.service, 'triggers-matcher');
      assert.equal(match.parentSpanId, accepted.spanId, 'the matcher process continues the context of the queue message (the ingest request\'s)');
      assert.equal(match.attributes['messaging.system'], combination.system);
      assert.equal(fanOut.parentSpanId, match.spanId);

      const attempts = spans.filter((s) => s.name === 'process deliveries' && s.attributes['triggers.outcome']).sort((a, b) => Number(a.startNanos - b.startNanos));
      assert.deepEqual(attempts.map((a) => [a.service, a.attributes['triggers.attempt'], a.attributes['triggers.outcome']]), [
        ['triggers-deliverer', 1, 'retry'],
        ['triggers-deliverer', 2, 'succeeded'],
      ]);
      assert.equal(attempts[0].parentSpanId, fanOut.spanId, 'the deliverer process continues the context of the queue message');
      assert.equal(attempts[0].kind, SPAN_KIND.consumer);
      assert.equal(attempts[0].attributes['triggers.subscription_id'], subscription.workflow_id);
      const requests = spans.filter((s) => s.name === 'POST').sort((a, b) => Number(a.startNanos - b.startNanos));
      assert.deepEqual(requests.map((r) => [r.kind, r.attributes['http.response.status_code']]), [
        [SPAN_KIND.client, 500],
        [SPAN_KIND.client, 200],
      ]);
      assert.equal(hook.requests[0].headers.traceparent, undefined, 'TRIGGERS_WEBHOOK_TRACEPARENT is off by default');

      // The deliverer's log line about the retry carries the first attempt's trace and span.
      const retryLine = services!.deliverer
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l))
        .find((l) => l.msg === 'Scheduled retry' && l.trace_id === accepted.traceId);
      assert.ok(retryLine, `a "Scheduled retry" line with trace_id ${accepted.traceId}`);
      assert.equal(retryLine.span_id, attempts[0].spanId);
    });
  });
}
