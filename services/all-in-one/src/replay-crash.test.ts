import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { httpClient } from '@triggers/core/testing';
import { createSubscription, eventIdsIn, newCustomer, postEvents, startAllInOneProcess, startWebhookReceiver, waitForEventStatus, waitForReplay, type ServiceProcess, type WebhookReceiver } from '@triggers/testkit';

/**
 * Bulk replay survives a crash (API.md: "the job is durable, resumable after a crash"): a real
 * all-in-one child runs a paced replay, is SIGKILLed part-way and started again on the same data
 * folder and port. The job must complete with exact counts, and every matched event must get
 * exactly one replay delivery id (a page enqueued but not saved at the kill is enqueued again:
 * same replay, same delivery ids, so at most that page's webhooks repeat). The restarted matcher
 * takes the job over when the killed runner's lease (10 s) has passed.
 */
const ADMIN_TOKEN = 'replay-crash-admin-token-0123456789';
const EVENTS = 60;
/** Pages of 20 events, one a second: three pages, so the kill lands part-way. */
const EVENTS_PER_SECOND = 20;

describe('bulk replay crash: SIGKILL mid-job, restart on the same data folder (all-in-one child)', function () {
  this.timeout(60_000);
  let dataDir: string;
  let child: ServiceProcess | undefined;
  let receiver: WebhookReceiver | undefined;
  let failed = false;

  before(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'triggers-replay-crash-'));
  });
  afterEach(function () {
    failed ||= this.currentTest?.state === 'failed';
  });
  after(async () => {
    if (failed && child) process.stderr.write(`\nreplay-crash: last child output:\n${child.output().slice(-6000)}\n`);
    await child?.stop();
    await receiver?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const start = (port?: number) =>
    startAllInOneProcess(
      {
        TRIGGERS_DATA_DIR: dataDir,
        TRIGGERS_ADMIN_TOKEN: ADMIN_TOKEN,
        TRIGGERS_REPLAY_EVENTS_PER_SECOND: String(EVENTS_PER_SECOND),
        TRIGGERS_RATE_LIMIT_PER_SECOND: '1000000',
        // Nothing but the job's own resume may rescue its work.
        TRIGGERS_PENDING_SWEEP_AFTER_MS: String(3_600_000),
      },
      { port },
    );

  it('completes after the restart with matched = enqueued = delivered = every event, and one replay delivery id per event', async () => {
    child = await start();
    const api = httpClient(child.url, ADMIN_TOKEN);
    receiver = await startWebhookReceiver();
    const customer = await newCustomer(api, 'Replay crash');
    await createSubscription(api, customer.apiKey, { event_selector: { type: 'event_type', value: customer.eventType }, webhook_url: receiver.url() });
    const from = new Date(Date.now() - 1000).toISOString();
    const posted = (await postEvents(api, customer.apiKey, Array.from({ length: EVENTS }, (_, n) => ({ event_type: customer.eventType, n })))).map((e) => e.event_id);
    for (const id of posted) await waitForEventStatus(api, customer.apiKey, id, 'delivered', { timeoutMs: 15_000, intervalMs: 50 });
    const liveIds = new Set(receiver.requests.map((r) => r.headers['webhook-id']));
    assert.equal(liveIds.size, EVENTS);

    const created = await api.request('POST', '/api/v1/replays', { apiKey: customer.apiKey, json: { filter: { start_time: from, end_time: new Date(Date.now() + 1000).toISOString() } } });
    assert.equal(created.status, 202, created.text);
    const replayId: string = created.body.replay_id;
    const partWay = await waitForReplay(api, customer.apiKey, replayId, (r) => r.counts.enqueued >= EVENTS_PER_SECOND, 10_000);
    assert.equal(partWay.status, 'running', `the kill must land part-way: ${JSON.stringify(partWay.counts)}`);
    await sleep(Math.random() * 500); // anywhere in the next page's second: mid-page or mid-pause
    const port = child.port;
    await child.kill('SIGKILL');
    const killedAt = Date.now();
    child = await start(port);
    const restartedAt = Date.now();

    const done = await waitForReplay(api, customer.apiKey, replayId, (r) => r.settled, 40_000);
    const completedAt = Date.now();
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.counts, { matched: EVENTS, enqueued: EVENTS, processed: EVENTS, unmatched: 0, deliveries: EVENTS, delivered: EVENTS, failed: 0 }, 'a page enqueued twice is processed once');

    const replayed = receiver.requests.filter((r) => !liveIds.has(r.headers['webhook-id']));
    const idsByEvent = new Map<string, Set<string>>();
    for (const request of replayed) for (const eventId of eventIdsIn(request)) idsByEvent.set(eventId, (idsByEvent.get(eventId) ?? new Set()).add(String(request.headers['webhook-id'])));
    assert.deepEqual([...idsByEvent.keys()].sort(), [...posted].sort(), 'every event was replayed');
    assert.ok([...idsByEvent.values()].every((ids) => ids.size === 1), 'one replay delivery id per event, whatever was enqueued twice');
    assert.ok(replayed.length <= EVENTS + EVENTS_PER_SECOND, `${replayed.length} replay requests: at most one page repeated`);
    process.stdout.write(
      `      (loaded machine) restart took ${restartedAt - killedAt} ms; job completed and its deliveries counted ${completedAt - restartedAt} ms after the restart; ${replayed.length} replay requests for ${EVENTS} events\n`,
    );
  });
});
