import assert from 'node:assert/strict';
import { httpClient, type HttpClient } from '@triggers/core/testing';
import { requireEngine, prepareBackends, runBulkReplayScenario, runRetryPolicyScenario, startServiceProcesses, startWebhookReceiver, waitForEventStatus, allInboxEvents, DYNAMODB, engineAddresses, KAFKA, newCustomer, POSTGRES, postEvent, REDIS, SQS, subscribe, verifySignature, type EngineRequirement, type BackendChoice, type PreparedBackends, type ServiceProcesses, type WebhookReceiver, type WebhookReceiverOptions, type EventWithAttempts, type WaitForEventOptions } from '@triggers/testkit';

/**
 * Issue 4, part 3: the four services as four separate OS processes, configured by environment
 * variables alone, on real engines — and what the embedded end-to-end tests assert: signed
 * delivery, retries with a stable webhook-id, statuses, inbox paging, idempotent replay, and one
 * rate-limit bucket shared by several ingest processes.
 *
 * Each combination skips with a line naming the missing engine (and fails instead under
 * TRIGGERS_REQUIRE_BACKENDS=1). Each run has its own PostgreSQL schema, queue/topic prefix,
 * DynamoDB table and data folder (testkit's prepareBackends).
 */

interface Combination {
  title: string;
  label: string;
  choice: BackendChoice;
  engines: EngineRequirement[];
  /** A status is reached within this (Kafka joins consumer groups and routes retries through delay topics). */
  statusTimeoutMs: number;
}

const COMBINATIONS: Combination[] = [
  {
    title: 'PostgreSQL + Redis + SQLite queue (shared data folder)',
    label: 'e2e-pg-sqlite',
    choice: { eventStore: 'postgres', metadataStore: 'postgres', queue: 'sqlite', cache: 'redis' },
    engines: [POSTGRES, REDIS],
    statusTimeoutMs: 15_000,
  },
  {
    title: 'PostgreSQL + Redis + SQS (ElasticMQ) + DynamoDB',
    label: 'e2e-sqs-dynamo',
    choice: { eventStore: 'dynamodb', metadataStore: 'postgres', queue: 'sqs', cache: 'redis' },
    engines: [POSTGRES, REDIS, DYNAMODB, SQS],
    statusTimeoutMs: 20_000,
  },
  {
    title: 'PostgreSQL + Redis + Kafka',
    label: 'e2e-pg-kafka',
    choice: { eventStore: 'postgres', metadataStore: 'postgres', queue: 'kafka', cache: 'redis' },
    engines: [POSTGRES, REDIS, KAFKA],
    statusTimeoutMs: 25_000,
  },
];

/** Short retries so the retry test is quick; three attempts in all. */
const SERVICE_SETTINGS = {
  TRIGGERS_RETRY_BASE_MS: '300',
  TRIGGERS_RETRY_MAX_DELAY_MS: '2000',
  TRIGGERS_MAX_ATTEMPTS: '3',
  TRIGGERS_WEBHOOK_TIMEOUT_MS: '3000',
  TRIGGERS_DEMO: '0',
};

for (const combination of COMBINATIONS) {
  describe(`distributed end to end: four processes on ${combination.title}`, function () {
    this.timeout(combination.statusTimeoutMs + 15_000);
    for (const engine of combination.engines) requireEngine(engine);

    let backends: PreparedBackends | undefined;
    let services: ServiceProcesses | undefined;
    let ingest: HttpClient;
    let ingest2: HttpClient;
    let inbox: HttpClient;
    const receivers: WebhookReceiver[] = [];
    let failed = false;

    before(async function () {
      this.timeout(90_000);
      backends = await prepareBackends(combination.choice, engineAddresses(), combination.label);
      services = await startServiceProcesses({ env: { ...backends.env, ...SERVICE_SETTINGS }, ingestReplicas: 2 });
      ingest = httpClient(services.ingests[0].url);
      ingest2 = httpClient(services.ingests[1].url);
      inbox = httpClient(services.inbox.url, services.adminToken);
    });
    afterEach(async function () {
      if (this.currentTest?.state === 'failed') failed = true;
      await Promise.all(receivers.splice(0).map((r) => r.close()));
    });
    after(async function () {
      this.timeout(60_000);
      if ((failed || process.env.TRIGGERS_E2E_SHOW_OUTPUT === '1') && services) process.stderr.write(`\n${combination.title}: service output\n${services.diagnostics()}\n`);
      await services?.stop();
      await backends?.cleanup();
    });

    const receiver = async (options?: WebhookReceiverOptions) => {
      const started = await startWebhookReceiver(options);
      receivers.push(started);
      return started;
    };
    const waitFor = (apiKey: string, eventId: string, status: EventWithAttempts['status'], options: WaitForEventOptions = {}) =>
      waitForEventStatus(inbox, apiKey, eventId, status, { timeoutMs: combination.statusTimeoutMs, intervalMs: 100, ...options });

    if (combination.choice.queue === 'kafka') {
      it('bulk replay: the failed events of a type are replayed in one call, paced and counted, by the matcher process', async () => {
        await runBulkReplayScenario({ ingest, inbox, receiver, timeoutMs: combination.statusTimeoutMs });
      });

      it("retry policy: a subscription's own schedule_ms and max_attempts govern its retries (not the settings'), attempts_made and next_attempt_at visible", async () => {
        // Retries go through Kafka's delay topics: a retry may fire later than on SQLite.
        await runRetryPolicyScenario({ ingest, inbox, receiver, settingsMaxAttempts: Number(SERVICE_SETTINGS.TRIGGERS_MAX_ATTEMPTS), lateMs: 1500, timeoutMs: combination.statusTimeoutMs });
      });
    }

    it('every process is ready, and /ready names each backend it uses (Redis: ingest only)', async () => {
      for (const service of services!.all) {
        const response = await httpClient(service.url).request('GET', '/ready');
        assert.equal(response.status, 200, `${service.name}: ${response.text}`);
        const names = new Set<string>(response.body.checks.map((c: { name: string }) => c.name));
        for (const name of new Set([combination.choice.queue, 'postgres', combination.choice.eventStore])) {
          assert.ok(names.has(name), `${service.name} /ready checks ${name}: ${response.text}`);
        }
        assert.equal(names.has('redis'), service.service === 'ingest', `${service.name} /ready checks redis only if it uses it: ${response.text}`);
      }
    });

    it('delivers a signed webhook that standardwebhooks verifies, and the event ends delivered', async () => {
      const customer = await newCustomer(inbox);
      const hook = await receiver();
      const subscription = await subscribe(inbox, customer.apiKey, customer.eventType, hook.url());
      const eventId = (await postEvent(ingest, customer.apiKey, { event_type: customer.eventType, order_id: 'o-1', amount: 42 })).event_id;

      const [request] = await hook.waitFor(1, combination.statusTimeoutMs);
      const verified = verifySignature(request, subscription.secret) as { event_id: string; customer_id: string; payload: unknown; timestamp: string }[];
      assert.equal(request.headers['content-type'], 'application/json');
      assert.equal(request.headers['user-agent'], 'Zapier-Triggers-API/1.0');
      assert.equal(verified.length, 1);
      assert.deepEqual(
        { ...verified[0], timestamp: undefined },
        { event_id: eventId, customer_id: customer.customerId, payload: { event_type: customer.eventType, order_id: 'o-1', amount: 42 }, timestamp: undefined },
      );
      assert.throws(() => verifySignature(request, `whsec_${Buffer.from('another secret, 32 bytes long!!!').toString('base64')}`));

      const event = await waitFor(customer.apiKey, eventId, 'delivered', { until: (e) => e.attempts.length === 1 });
      assert.deepEqual(
        event.attempts.map((a) => [a.workflow_id, a.attempt, a.status, a.status_code]),
        [[subscription.workflow_id, 1, 'succeeded', 200]],
      );
      assert.equal(event.delivery_attempts, 1);
    });

    it('retries: the receiver answers 500 then 200, and the event is delivered after 2 attempts with one webhook-id', async () => {
      const customer = await newCustomer(inbox);
      const hook = await receiver({ answers: [{ status: 500 }] });
      const subscription = await subscribe(inbox, customer.apiKey, customer.eventType, hook.url());
      const eventId = (await postEvent(ingest, customer.apiKey, { event_type: customer.eventType })).event_id;

      const event = await waitFor(customer.apiKey, eventId, 'delivered', { until: (e) => e.attempts.length === 2 });
      assert.deepEqual(
        event.attempts.map((a) => `${a.attempt}:${a.status}:${a.status_code}`),
        ['1:retrying:500', '2:succeeded:200'],
      );
      assert.equal(event.delivery_attempts, 2);
      const requests = await hook.waitFor(2, 1000);
      assert.equal(requests.length, 2);
      assert.equal(requests[0].headers['webhook-id'], requests[1].headers['webhook-id'], 'a retry keeps the webhook-id');
      for (const request of requests) verifySignature(request, subscription.secret);
    });

    it('statuses: a 404 ends failed after one attempt; an event nothing matches ends unmatched', async () => {
      const customer = await newCustomer(inbox);
      const hook = await receiver({ otherwise: { status: 404 } });
      await subscribe(inbox, customer.apiKey, customer.eventType, hook.url());
      const failing = (await postEvent(ingest, customer.apiKey, { event_type: customer.eventType })).event_id;
      const unmatched = (await postEvent(ingest2, customer.apiKey, { event_type: `${customer.eventType}.other` })).event_id;

      const failed = await waitFor(customer.apiKey, failing, 'failed');
      assert.deepEqual(failed.attempts.map((a) => `${a.attempt}:${a.status}:${a.status_code}`), ['1:failed:404']);
      const none = await waitFor(customer.apiKey, unmatched, 'unmatched');
      assert.deepEqual(none.attempts, []);
      assert.equal(none.delivery_attempts, 0);
      assert.equal(hook.requests.length, 1);
    });

    it('inbox: pages newest first, following the cursor visits every event once; status filters work', async () => {
      const customer = await newCustomer(inbox);
      const batch = await ingest.request('POST', '/api/v1/events/batch', {
        apiKey: customer.apiKey,
        json: { events: [1, 2, 3, 4, 5].map((n) => ({ payload: { event_type: customer.eventType, n } })) },
      });
      assert.equal(batch.status, 202, batch.text);
      const posted: string[] = batch.body.events.map((e: { event_id: string }) => e.event_id);
      assert.equal(posted.length, 5);

      // Nothing subscribes: every event ends unmatched.
      for (const id of posted) await waitFor(customer.apiKey, id, 'unmatched');

      const seen: string[] = [];
      let cursor: string | null = null;
      const pageSizes: number[] = [];
      for (let page = 0; page < 10; page++) {
        const response = await inbox.request('GET', `/api/v1/inbox?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { apiKey: customer.apiKey });
        assert.equal(response.status, 200, response.text);
        assert.equal(response.body.total, response.body.events.length);
        pageSizes.push(response.body.events.length);
        seen.push(...response.body.events.map((e: { event_id: string }) => e.event_id));
        if (!response.body.has_more) {
          assert.equal(response.body.cursor, null);
          break;
        }
        cursor = response.body.cursor;
        assert.equal(typeof cursor, 'string');
      }
      assert.deepEqual(pageSizes, [2, 2, 1]);
      assert.deepEqual(seen, [...posted].reverse(), 'every event once, newest first');

      assert.deepEqual((await allInboxEvents(inbox, customer.apiKey, 'status=unmatched')).length, 5);
      assert.deepEqual(await allInboxEvents(inbox, customer.apiKey, 'status=pending'), []);
      const other = await newCustomer(inbox);
      assert.deepEqual(await allInboxEvents(inbox, other.apiKey), [], "another customer's inbox is empty");
    });

    it('idempotency: a repeat through the other ingest process replays the original 202 and creates nothing', async () => {
      const customer = await newCustomer(inbox);
      const body = { payload: { event_type: customer.eventType, order_id: 'o-idem' } };
      const headers = { 'idempotency-key': `order-${customer.customerId}` };
      const first = await ingest.request('POST', '/api/v1/events', { apiKey: customer.apiKey, json: body, headers });
      assert.equal(first.status, 202, first.text);
      assert.equal(first.headers.get('idempotent-replayed'), null);

      const replay = await ingest2.request('POST', '/api/v1/events', { apiKey: customer.apiKey, json: body, headers });
      assert.equal(replay.status, 202, replay.text);
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(replay.body, first.body);

      const reused = await ingest2.request('POST', '/api/v1/events', { apiKey: customer.apiKey, json: { payload: { other: true } }, headers });
      assert.equal(reused.status, 422, reused.text);
      assert.equal(reused.body.code, 'idempotency_key_reused');

      await waitFor(customer.apiKey, first.body.event_id, 'unmatched');
      assert.deepEqual((await allInboxEvents(inbox, customer.apiKey)).map((e) => e.event_id), [first.body.event_id]);
    });

    it('rate limit: both ingest processes draw from one bucket in Redis (429 with Retry-After)', async () => {
      const customer = await newCustomer(inbox);
      // One event per second, a burst of one: the token the first process takes is gone for the
      // second for a whole second (a bucket per process would still hold one).
      const patched = await inbox.request('PATCH', `/admin/customers/${customer.customerId}`, { admin: true, json: { rate_limit_per_second: 1 } });
      assert.equal(patched.status, 200, patched.text);

      for (let attempt = 1; ; attempt++) {
        const started = Date.now();
        const first = await ingest.request('POST', '/api/v1/events', { apiKey: customer.apiKey, json: { payload: { n: attempt } } });
        assert.equal(first.status, 202, first.text);
        assert.equal(first.headers.get('ratelimit-limit'), '1');
        const second = await ingest2.request('POST', '/api/v1/events', { apiKey: customer.apiKey, json: { payload: { n: attempt, second: true } } });
        if (second.status === 202 && Date.now() - started > 900 && attempt < 3) {
          // The machine stalled for a second between the two requests, so the bucket refilled: again.
          await new Promise((resolve) => setTimeout(resolve, 1100));
          continue;
        }
        assert.equal(second.status, 429, second.text);
        assert.equal(second.body.code, 'rate_limited');
        assert.ok(Number(second.headers.get('retry-after')) >= 1, `Retry-After ${second.headers.get('retry-after')}`);
        assert.equal(second.headers.get('ratelimit-limit'), '1');
        assert.equal(second.headers.get('ratelimit-remaining'), '0');
        break;
      }
    });
  });
}
