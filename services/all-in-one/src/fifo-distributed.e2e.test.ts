import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { httpClient, type HttpClient } from '@triggers/core/testing';
import {
  assertFifo,
  requireEngine,
  prepareBackends,
  startServiceProcesses,
  startWebhookReceiver,
  engineAddresses,
  eventIdsIn,
  newCustomer,
  DYNAMODB,
  KAFKA,
  POSTGRES,
  SQS,
  REDIS,
  type EngineRequirement,
  type BackendChoice,
  type PreparedBackends,
  type ServiceProcesses,
  type WebhookReceiver,
} from '@triggers/testkit';

/**
 * Issue 14, item 1: FIFO per subscription with two deliverer processes on one queue, one of them
 * SIGKILLed mid-stream and started again, while the head of the stream is retrying. The receiver
 * must still see the events in order of acceptance, one request at a time; the only repeat
 * allowed is the request the killed process had sent and not recorded (at-least-once).
 * On the SQLite queue and stores (shared data folder), on PostgreSQL + Kafka and on DynamoDB + SQS.
 */

interface Combination {
  title: string;
  label: string;
  choice: BackendChoice;
  engines: EngineRequirement[];
  env?: Record<string, string>;
}

const COMBINATIONS: Combination[] = [
  { title: 'SQLite queue and event store (shared data folder), PostgreSQL metadata', label: 'fifo-sqlite', choice: { eventStore: 'sqlite', metadataStore: 'postgres', queue: 'sqlite', cache: 'redis' }, engines: [POSTGRES, REDIS] },
  { title: 'PostgreSQL + Kafka', label: 'fifo-kafka', choice: { eventStore: 'postgres', metadataStore: 'postgres', queue: 'kafka', cache: 'redis' }, engines: [POSTGRES, REDIS, KAFKA] },
  // SQS is a standard queue here: order comes from the delivery store's head (DynamoDB's in_order
  // index), and a killed deliverer's in-flight head returns after the visibility timeout: 10 s
  // here instead of the default 30 s (40 s end to end with 30 s on a quiet machine).
  { title: 'DynamoDB + SQS', label: 'fifo-sqs', choice: { eventStore: 'dynamodb', metadataStore: 'postgres', queue: 'sqs', cache: 'redis' }, engines: [POSTGRES, REDIS, DYNAMODB, SQS], env: { TRIGGERS_QUEUE_VISIBILITY_TIMEOUT_MS: '10000' } },
];

const SETTINGS = {
  TRIGGERS_RETRY_BASE_MS: '500',
  TRIGGERS_RETRY_MAX_DELAY_MS: '1000',
  TRIGGERS_MAX_ATTEMPTS: '6',
  TRIGGERS_WEBHOOK_TIMEOUT_MS: '3000',
  TRIGGERS_DEMO: '0',
};
const EVENTS = 24;
const DONE_WITHIN_MS = 60_000;

for (const combination of COMBINATIONS) {
  describe(`FIFO across two deliverer processes, one killed mid-stream: ${combination.title}`, function () {
    this.timeout(DONE_WITHIN_MS + 60_000);
    for (const engine of combination.engines) requireEngine(engine);

    let backends: PreparedBackends | undefined;
    let services: ServiceProcesses | undefined;
    let receiver: WebhookReceiver | undefined;
    let failed = false;

    before(async function () {
      this.timeout(180_000);
      backends = await prepareBackends(combination.choice, engineAddresses(), combination.label);
      // Kafka's topics and consumer groups take long to settle on a loaded machine.
      services = await startServiceProcesses({ env: { ...backends.env, ...SETTINGS, ...combination.env }, delivererReplicas: 2, startTimeoutMs: 150_000 });
    });
    afterEach(function () {
      if (this.currentTest?.state === 'failed') failed = true;
    });
    after(async function () {
      this.timeout(60_000);
      if (failed && services) process.stderr.write(`\n${combination.title}: service output\n${services.diagnostics()}\n`);
      await receiver?.close();
      await services?.stop();
      await backends?.cleanup();
    });

    it('keeps event order, one request at a time, through retries of the head and a SIGKILL of a deliverer', async function () {
      const ingest: HttpClient = httpClient(services!.ingest.url);
      const inbox: HttpClient = httpClient(services!.inbox.url, services!.adminToken);
      const customer = await newCustomer(inbox, 'FIFO');
      receiver = await startWebhookReceiver({ answers: [{ status: 500 }, { status: 503 }], otherwise: { status: 200, delayMs: 40 } });
      const created = await inbox.request('POST', '/api/v1/subscriptions', {
        apiKey: customer.apiKey,
        json: { event_selector: { type: 'event_type', value: customer.eventType }, webhook_url: receiver.url(), ordering: 'fifo' },
      });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.ordering, 'fifo');
      // The matcher caches a customer's subscriptions briefly: a first event proves it sees this one.
      const posted: string[] = [];
      for (let i = 0; i < EVENTS; i++) {
        const response = await ingest.request('POST', '/api/v1/events', { apiKey: customer.apiKey, json: { payload: { event_type: customer.eventType, n: i } } });
        assert.equal(response.status, 202, response.text);
        posted.push(response.body.event_id);
        if (i === 4) await receiver.waitFor(3, 30_000); // the head failed twice and succeeded: the stream is flowing
      }
      const before = receiver.requests.length;
      await services!.restart('deliverer', { signal: 'SIGKILL' });
      const deadline = Date.now() + DONE_WITHIN_MS;
      const seen = () => new Set(receiver!.requests.filter((r) => (r.answer.status ?? 200) < 300).flatMap((r) => eventIdsIn(r)));
      while (seen().size < posted.length && Date.now() < deadline) await sleep(200);
      await sleep(500);
      const requests = [...receiver.requests];
      process.stdout.write(`      fifo-distributed (${combination.label}): ${requests.length} requests for ${posted.length} events, ${before} before the kill\n`);
      assert.equal(seen().size, posted.length, `every event delivered within ${DONE_WITHIN_MS} ms of the kill`);
      assertFifo(requests, posted, { allowResend: true });
    });
  });
}
