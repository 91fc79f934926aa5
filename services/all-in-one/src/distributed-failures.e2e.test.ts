import assert from 'node:assert/strict';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { DATABASE_FILE, httpClient, type HttpClient, type TestResponse } from '@triggers/core/testing';
import { requireEngine, checkEnginePrograms, startEngineInstance, prepareBackends, startServiceProcesses, startTcpProxy, waitForEventStatus, startWebhookReceiver, allInboxEvents, DYNAMODB, engineAddresses, eventIdsIn, eventually, newCustomer, POSTGRES, postEvent, REDIS, SQS, subscribe, verifySignature, type EngineInstance, type PreparedBackends, type ServiceProcesses, type TcpProxy, type EventWithAttempts, type WaitForEventOptions, type WebhookReceiver, type WebhookReceiverOptions } from '@triggers/testkit';

/**
 * Issue 4, parts 4 and 5, with the services as separate processes on real engines:
 *
 * - Dual-write safety: where the event store and the queue are different engines, ingest stores
 *   the event and then enqueues it. When the enqueue fails after the store write, the event is
 *   still accepted (it is durable) and the matcher's pending sweeper re-enqueues it once it is
 *   overdue (TRIGGERS_PENDING_SWEEP_AFTER_MS, short here), so it is delivered.
 * - Failure behaviour: Redis and PostgreSQL — throwaway servers of this test's own, so the shared
 *   engines other tests use are never disturbed — are stopped during a run: ingest answers
 *   `503 unavailable` and accepts nothing, `/ready` is 503 and names the backend, and once the
 *   server is back everything resumes by itself, including events accepted before the outage.
 */

const FAST = {
  TRIGGERS_RETRY_BASE_MS: '300',
  TRIGGERS_RETRY_MAX_DELAY_MS: '2000',
  TRIGGERS_MAX_ATTEMPTS: '5',
  TRIGGERS_WEBHOOK_TIMEOUT_MS: '3000',
  TRIGGERS_DEMO: '0',
};

/** The sweeper re-enqueues events left pending this long (the minimum the setting allows); it looks every second. */
const SWEEP_AFTER_MS = 1000;

/** A run's processes and receivers, stopped and cleaned up by `after` (with the services' output when a test failed). */
function runHarness(title: string) {
  const state = {
    backends: undefined as PreparedBackends | undefined,
    services: undefined as ServiceProcesses | undefined,
    receivers: [] as WebhookReceiver[],
    failed: false,
  };
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') state.failed = true;
    await Promise.all(state.receivers.splice(0).map((r) => r.close()));
  });
  const finish = async () => {
    if ((state.failed || process.env.TRIGGERS_E2E_SHOW_OUTPUT === '1') && state.services) process.stderr.write(`\n${title}: service output\n${state.services.diagnostics()}\n`);
    await state.services?.stop();
    await state.backends?.cleanup();
  };
  const receiver = async (options?: WebhookReceiverOptions) => {
    const started = await startWebhookReceiver(options);
    state.receivers.push(started);
    return started;
  };
  return { state, finish, receiver };
}

function assertUnavailable(response: TestResponse, ...secrets: string[]): void {
  assert.equal(response.status, 503, response.text);
  assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(response.body.code, 'unavailable', response.text);
  for (const secret of ['127.0.0.1', 'ECONNREFUSED', 'postgres://', 'redis://', ...secrets]) {
    assert.ok(!response.text.includes(secret), `the problem document leaks ${secret}: ${response.text}`);
  }
}

async function readiness(service: { url: string }): Promise<{ status: number; checks: Map<string, boolean>; text: string }> {
  const response = await httpClient(service.url).request('GET', '/ready');
  const checks = new Map<string, boolean>((response.body?.checks ?? []).map((c: { name: string; ok: boolean }) => [c.name, c.ok]));
  return { status: response.status, checks, text: response.text };
}

describe('dual-write safety: PostgreSQL store, SQLite queue — the enqueue fails after the store write', function () {
  this.timeout(40_000);
  requireEngine(POSTGRES);
  requireEngine(REDIS);
  const { state, finish, receiver } = runHarness('dual write (PostgreSQL + SQLite queue)');
  let ingest: HttpClient;
  let inbox: HttpClient;
  before(async function () {
    this.timeout(90_000);
    state.backends = await prepareBackends({ eventStore: 'postgres', metadataStore: 'postgres', queue: 'sqlite', cache: 'redis' }, engineAddresses(), 'e2e-dual-sqlite');
    state.services = await startServiceProcesses({ env: { ...state.backends.env, ...FAST, TRIGGERS_PENDING_SWEEP_AFTER_MS: String(SWEEP_AFTER_MS) } });
    ingest = httpClient(state.services.ingest.url);
    inbox = httpClient(state.services.inbox.url, state.services.adminToken);
  });
  after(async function () {
    this.timeout(60_000);
    await finish();
  });

  it('the event is accepted, stays pending while the queue refuses it, and the sweeper delivers it once the queue takes writes again', async () => {
    const customer = await newCustomer(inbox);
    const hook = await receiver();
    const subscription = await subscribe(inbox, customer.apiKey, customer.eventType, hook.url());

    // The queue (the shared SQLite file) refuses this customer's `events` messages, as a failing
    // disk would; the event store (PostgreSQL) is fine.
    const db = new Database(path.join(state.backends!.dataDir, DATABASE_FILE));
    db.pragma('busy_timeout = 5000');
    try {
      db.exec(
        `CREATE TRIGGER e2e_refuse_enqueue BEFORE INSERT ON queue_messages ` +
          `WHEN NEW.topic = 'events' AND json_extract(NEW.body, '$.customerId') = '${customer.customerId}' ` +
          `BEGIN SELECT RAISE(ABORT, 'injected: the queue is down'); END`,
      );
      const eventId = (await postEvent(ingest, customer.apiKey, { event_type: customer.eventType, n: 1 })).event_id;

      // Stored (the inbox reads it) but not enqueued; the sweeper's re-enqueues fail too while the queue is down.
      await eventually(async () => (/Failed to enqueue stored events/.test(state.services!.ingest.output()) ? true : undefined), 5000, () => 'ingest logs the failed enqueue');
      await sleep(SWEEP_AFTER_MS + 1500);
      const pending = await waitForEventStatus(inbox, customer.apiKey, eventId, 'pending');
      assert.equal(pending.delivery_attempts, 0);
      assert.equal(hook.requests.length, 0);
      assert.equal(db.prepare("SELECT COUNT(*) FROM queue_messages WHERE topic = 'events' AND json_extract(body, '$.customerId') = ?").pluck().get(customer.customerId), 0);

      db.exec('DROP TRIGGER e2e_refuse_enqueue');
      const delivered = await waitForEventStatus(inbox, customer.apiKey, eventId, 'delivered', { timeoutMs: 15_000, intervalMs: 100 });
      assert.deepEqual(delivered.attempts.map((a) => `${a.attempt}:${a.status}`), ['1:succeeded']);
      const [request] = await hook.waitFor(1);
      assert.deepEqual(eventIdsIn(request), [eventId]);
      verifySignature(request, subscription.secret);
      assert.match(state.services!.matcher.output(), /Re-enqueued stranded work/);
    } finally {
      db.close();
    }
  });
});

describe('dual-write safety: DynamoDB store, SQS queue — ingest cannot reach SQS after the store write', function () {
  this.timeout(40_000);
  requireEngine(POSTGRES);
  requireEngine(REDIS);
  requireEngine(DYNAMODB);
  requireEngine(SQS);
  const { state, finish, receiver } = runHarness('dual write (DynamoDB + SQS)');
  let proxy: TcpProxy | undefined;
  let ingest: HttpClient;
  let inbox: HttpClient;
  before(async function () {
    this.timeout(90_000);
    const engines = engineAddresses();
    state.backends = await prepareBackends({ eventStore: 'dynamodb', metadataStore: 'postgres', queue: 'sqs', cache: 'redis' }, engines, 'e2e-dual-sqs');
    // Ingest reaches SQS through a proxy the test can cut; the matcher and deliverer reach it directly.
    const sqs = new URL(engines.sqsEndpoint!);
    proxy = await startTcpProxy({ host: sqs.hostname, port: Number(sqs.port) });
    state.services = await startServiceProcesses({
      env: { ...state.backends.env, ...FAST, TRIGGERS_PENDING_SWEEP_AFTER_MS: String(SWEEP_AFTER_MS) },
      envFor: { ingest: { TRIGGERS_SQS_ENDPOINT: proxy.url } },
    });
    ingest = httpClient(state.services.ingest.url);
    inbox = httpClient(state.services.inbox.url, state.services.adminToken);
  });
  after(async function () {
    this.timeout(60_000);
    await finish();
    await proxy?.close();
  });

  it('the event is accepted with SQS unreachable from ingest, and the sweeper enqueues and delivers it', async () => {
    const customer = await newCustomer(inbox);
    const hook = await receiver();
    const subscription = await subscribe(inbox, customer.apiKey, customer.eventType, hook.url());
    // Sanity: through the proxy, the normal path works.
    const first = (await postEvent(ingest, customer.apiKey, { event_type: customer.eventType, n: 1 })).event_id;
    await waitForEventStatus(inbox, customer.apiKey, first, 'delivered', { timeoutMs: 15_000, intervalMs: 100 });

    await proxy!.cut();
    const eventId = (await postEvent(ingest, customer.apiKey, { event_type: customer.eventType, n: 2 })).event_id;
    await eventually(async () => (/Failed to enqueue stored events/.test(state.services!.ingest.output()) ? true : undefined), 15_000, () => 'ingest logs the failed enqueue');
    const ready = await readiness(state.services!.ingest);
    assert.equal(ready.status, 503, ready.text);
    assert.equal(ready.checks.get('sqs'), false, ready.text);

    const delivered = await waitForEventStatus(inbox, customer.apiKey, eventId, 'delivered', { timeoutMs: 20_000, intervalMs: 100 });
    assert.deepEqual(delivered.attempts.map((a) => `${a.attempt}:${a.status}`), ['1:succeeded']);
    const requests = await hook.waitFor(2);
    assert.deepEqual(requests.map(eventIdsIn), [[first], [eventId]]);
    verifySignature(requests[1], subscription.secret);
    assert.match(state.services!.matcher.output(), /Re-enqueued stranded work/);
  });
});

describe('failure behaviour: Redis and PostgreSQL stopped and restarted during a run (servers of their own)', function () {
  this.timeout(60_000);
  // This test starts servers of its own (the shared ones are never stopped): it needs their programs here.
  for (const [engine, kind] of [[POSTGRES, 'postgres'], [REDIS, 'redis']] as const) {
    requireEngine({ ...engine, name: `${engine.name} (programs for a throwaway server)`, probe: () => checkEnginePrograms(kind) });
  }
  const { state, finish, receiver } = runHarness('failure behaviour');
  const RETRY_BASE_MS = 2000;
  let postgres: EngineInstance | undefined;
  let redis: EngineInstance | undefined;
  let ingest: HttpClient;
  let inbox: HttpClient;

  before(async function () {
    this.timeout(120_000);
    const [pg, rd] = await Promise.allSettled([startEngineInstance('postgres'), startEngineInstance('redis')]);
    if (pg.status === 'fulfilled') postgres = pg.value;
    if (rd.status === 'fulfilled') redis = rd.value;
    if (!postgres || !redis) throw [pg, rd].map((r) => (r.status === 'rejected' ? r.reason : null)).find(Boolean);
    state.backends = await prepareBackends(
      { eventStore: 'postgres', metadataStore: 'postgres', queue: 'sqlite', cache: 'redis' },
      { postgresUrl: postgres.url, redisUrl: redis.url },
      'e2e-outage',
    );
    state.services = await startServiceProcesses({
      env: {
        ...state.backends.env,
        ...FAST,
        // A retry comes due 1.6–2.4 s after a failed attempt: inside the outage below.
        TRIGGERS_RETRY_BASE_MS: String(RETRY_BASE_MS),
        // An outage, compressed: a message received more than 3 times is dead-lettered. A
        // consumer that kept receiving while PostgreSQL is down would spend that in ~2 s.
        TRIGGERS_QUEUE_MAX_RECEIVES: '3',
      },
    });
    ingest = httpClient(state.services.ingest.url);
    inbox = httpClient(state.services.inbox.url, state.services.adminToken);
  });
  after(async function () {
    this.timeout(120_000);
    // Whatever happened, the servers run again before cleaning up (the schema is dropped on them), then go.
    await Promise.all([postgres?.start(), redis?.start()]).catch(() => undefined);
    await finish();
    await Promise.all([postgres?.destroy(), redis?.destroy()]);
  });

  const waitFor = (apiKey: string, eventId: string, status: EventWithAttempts['status'], options: WaitForEventOptions = {}) =>
    waitForEventStatus(inbox, apiKey, eventId, status, { timeoutMs: 20_000, intervalMs: 100, ...options });

  it('Redis down: ingest answers 503 unavailable and accepts nothing, /ready names redis; back up: ingest resumes by itself', async () => {
    const services = state.services!;
    const customer = await newCustomer(inbox);
    const hook = await receiver();
    await subscribe(inbox, customer.apiKey, customer.eventType, hook.url());
    const before = (await postEvent(ingest, customer.apiKey, { event_type: customer.eventType, n: 0 })).event_id;
    await waitFor(customer.apiKey, before, 'delivered');

    await redis!.stop();
    const idempotencyKey = { 'idempotency-key': 'during-the-redis-outage' };
    assertUnavailable(await ingest.request('POST', '/api/v1/events', { apiKey: customer.apiKey, json: { payload: { event_type: customer.eventType, n: 1 } } }), customer.apiKey);
    assertUnavailable(
      await ingest.request('POST', '/api/v1/events', { apiKey: customer.apiKey, json: { payload: { event_type: customer.eventType, n: 2 } }, headers: idempotencyKey }),
      customer.apiKey,
    );
    assertUnavailable(
      await ingest.request('POST', '/api/v1/events/batch', { apiKey: customer.apiKey, json: { events: [{ payload: { event_type: customer.eventType, n: 3 } }] } }),
      customer.apiKey,
    );
    const down = await readiness(services.ingest);
    assert.equal(down.status, 503, down.text);
    assert.equal(down.checks.get('redis'), false, down.text);
    assert.equal(down.checks.get('postgres'), true, down.text);
    assert.match(down.text, /redis/);
    // The other services do not use Redis: they stay ready (the inbox keeps serving reads).
    for (const service of [services.inbox, services.matcher, services.deliverer]) {
      const ready = await readiness(service);
      assert.equal(ready.status, 200, `${service.name}: ${ready.text}`);
      assert.equal(ready.checks.has('redis'), false, `${service.name}: ${ready.text}`);
    }
    // Nothing half-accepted: the inbox (PostgreSQL, still up) holds only the event from before.
    assert.deepEqual((await allInboxEvents(inbox, customer.apiKey)).map((e) => e.event_id), [before]);

    await redis!.start();
    // Resumes by itself (the client reconnects): the same idempotency key is a first request, not a replay.
    const accepted = await eventually(
      async () => {
        const response = await ingest.request('POST', '/api/v1/events', { apiKey: customer.apiKey, json: { payload: { event_type: customer.eventType, n: 2 } }, headers: idempotencyKey });
        if (response.status === 202) return response;
        assertUnavailable(response);
        return undefined;
      },
      15_000,
      () => 'ingest accepting again after Redis restarted',
      200,
    );
    assert.equal(accepted.headers.get('idempotent-replayed'), null);
    await eventually(async () => ((await readiness(services.ingest)).status === 200 ? true : undefined), 10_000, () => 'ingest /ready 200 again');
    await waitFor(customer.apiKey, accepted.body.event_id, 'delivered');
    assert.deepEqual((await allInboxEvents(inbox, customer.apiKey)).map((e) => e.event_id), [accepted.body.event_id, before]);
    for (const service of services.all) assert.equal(service.exited, false, `${service.name} is still running`);
  });

  it('PostgreSQL down: 503 unavailable from ingest and inbox, /ready names postgres everywhere; back up: consumers resume and deliver what was accepted before', async () => {
    const services = state.services!;
    const customer = await newCustomer(inbox);
    // The first request carrying `retried` is refused (500), so its retry falls inside the outage.
    let retried = '';
    let refused = false;
    const hook = await receiver({
      otherwise: (request) => {
        if (!refused && eventIdsIn(request).includes(retried)) {
          refused = true;
          return { status: 500 };
        }
        return { status: 200 };
      },
    });
    await subscribe(inbox, customer.apiKey, customer.eventType, hook.url());
    // A key ingest has never seen (so not in its cache): during the outage it cannot be checked.
    const unseen = await newCustomer(inbox);
    // Events accepted just before the outage: some may not even be matched yet when it starts.
    const batch = await ingest.request('POST', '/api/v1/events/batch', {
      apiKey: customer.apiKey,
      json: { events: [1, 2, 3, 4, 5].map((n) => ({ payload: { event_type: customer.eventType, n } })) },
    });
    assert.equal(batch.status, 202, batch.text);
    retried = (await postEvent(ingest, customer.apiKey, { event_type: customer.eventType, n: 'retried' })).event_id;
    const accepted: string[] = [retried, ...batch.body.events.map((e: { event_id: string }) => e.event_id)];
    const firstAttempt = await waitFor(customer.apiKey, retried, 'pending', { until: (e) => e.attempts.length >= 1, intervalMs: 25 });
    const firstAttemptAt = Date.parse(firstAttempt.attempts[0].timestamp);

    await postgres!.stop();
    assertUnavailable(await ingest.request('POST', '/api/v1/events', { apiKey: customer.apiKey, json: { payload: { event_type: customer.eventType, n: 'refused' } } }), customer.apiKey);
    const unchecked = await ingest.request('POST', '/api/v1/events', { apiKey: unseen.apiKey, json: { payload: { n: 'unchecked' } } });
    assertUnavailable(unchecked, unseen.apiKey);
    assert.equal(unchecked.headers.get('www-authenticate'), null, 'a key that cannot be checked is 503, never 401');
    assertUnavailable(await inbox.request('POST', '/admin/test-customer', { admin: true, json: { name: 'During', email: 'during@example.test' } }));
    assertUnavailable(await inbox.request('GET', '/api/v1/inbox', { apiKey: customer.apiKey }), customer.apiKey);
    assertUnavailable(await inbox.request('GET', `/api/v1/events/${retried}`, { apiKey: customer.apiKey }), customer.apiKey);
    assertUnavailable(
      await inbox.request('POST', '/api/v1/subscriptions', {
        apiKey: customer.apiKey,
        json: { event_selector: { type: 'event_type', value: 'x' }, webhook_url: hook.url() },
      }),
      customer.apiKey,
    );
    for (const service of services.all) {
      const down = await readiness(service);
      assert.equal(down.status, 503, `${service.name}: ${down.text}`);
      assert.equal(down.checks.get('postgres'), false, `${service.name}: ${down.text}`);
      assert.equal(down.checks.get('sqlite'), true, `${service.name}: ${down.text}`);
    }
    // Down past the retry's due time (2 s ± 20 % after the first attempt), so the deliverer meets
    // the outage: it pauses consumption instead of spending the message's receives.
    await eventually(async () => (/pausing consumption/.test(services.deliverer.output()) ? true : undefined), 10_000, () => 'the deliverer pauses while PostgreSQL is down');
    await sleep(Math.max(0, firstAttemptAt + RETRY_BASE_MS * 1.2 + 1500 - Date.now()));
    for (const service of services.all) assert.equal(service.exited, false, `${service.name} survived the outage`);

    await postgres!.start();
    await eventually(
      async () => {
        const states = await Promise.all(services.all.map(readiness));
        return states.every((s) => s.status === 200) ? true : undefined;
      },
      15_000,
      () => 'every process ready again',
      200,
    );
    for (const id of accepted) await waitFor(customer.apiKey, id, 'delivered', { timeoutMs: 30_000 });
    const afterwards = await waitFor(customer.apiKey, retried, 'delivered');
    assert.deepEqual(afterwards.attempts.map((a) => `${a.attempt}:${a.status}:${a.status_code}`), ['1:retrying:500', '2:succeeded:200']);
    assert.match(services.deliverer.output(), /resuming consumption/);

    // Ingest accepts again, and nothing from the outage was half-accepted.
    const later = await eventually(
      async () => {
        const response = await ingest.request('POST', '/api/v1/events', { apiKey: customer.apiKey, json: { payload: { event_type: customer.eventType, n: 'later' } } });
        return response.status === 202 ? (response.body.event_id as string) : undefined;
      },
      10_000,
      () => 'ingest accepting again after PostgreSQL restarted',
    );
    await waitFor(customer.apiKey, later, 'delivered');
    const inboxIds = (await allInboxEvents(inbox, customer.apiKey)).map((e) => e.event_id).sort();
    assert.deepEqual(inboxIds, [...accepted, later].sort());
    assert.deepEqual(await allInboxEvents(inbox, unseen.apiKey), []);
    const deliveredIds = new Set(hook.requests.flatMap(eventIdsIn));
    for (const id of [...accepted, later]) assert.ok(deliveredIds.has(id), `${id} reached the receiver`);
    for (const service of services.all) assert.equal(service.exited, false, `${service.name} is still running`);
  });
});
