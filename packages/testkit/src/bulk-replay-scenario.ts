import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HttpClient } from '@triggers/core/testing';
import { createSubscription, newCustomer, postEvent } from './api-helpers.ts';
import { waitForEventStatus } from './wait-for-event.ts';
import type { WebhookReceiver, WebhookReceiverOptions } from './webhook-receiver.ts';

export interface BulkReplayScenario {
  ingest: HttpClient;
  inbox: HttpClient;
  receiver(options?: WebhookReceiverOptions): Promise<WebhookReceiver>;
  timeoutMs: number;
}

/** Polls `GET /api/v1/replays/{id}` until `done` holds; returns that reading. */
export async function waitForReplay(inbox: HttpClient, apiKey: string, replayId: string, done: (replay: any) => boolean, timeoutMs: number): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await inbox.request('GET', `/api/v1/replays/${replayId}`, { apiKey });
    assert.equal(response.status, 200, response.text);
    if (done(response.body)) return response.body;
    if (Date.now() > deadline) assert.fail(`replay ${replayId} did not get there within ${timeoutMs} ms: ${response.text}`);
    await sleep(100);
  }
}

/**
 * Issue 14 item 2, end to end: events that failed while a receiver was down are replayed in one
 * call once it is back; only the filtered ones (status and type in the time range) go again, under
 * new webhook-ids, and the job reports matched, enqueued and delivered counts. Then a replay to one
 * subscription that matches only some of the window's events, and one that fans out, each settle.
 */
export async function runBulkReplayScenario(s: BulkReplayScenario): Promise<void> {
  const customer = await newCustomer(s.inbox);
  const hook = await s.receiver({ otherwise: { status: 503 } });
  await createSubscription(s.inbox, customer.apiKey, { event_selector: { type: 'any', selectors: [{ type: 'event_type', value: customer.eventType }, { type: 'event_type', value: `${customer.eventType}.other` }] }, webhook_url: hook.url(), retry: { max_attempts: 1 } });
  const from = new Date(Date.now() - 1000).toISOString();
  const failing: string[] = [];
  for (let n = 0; n < 3; n++) failing.push((await postEvent(s.ingest, customer.apiKey, { event_type: customer.eventType, n })).event_id);
  const other = (await postEvent(s.ingest, customer.apiKey, { event_type: `${customer.eventType}.other` })).event_id;
  for (const id of [...failing, other]) await waitForEventStatus(s.inbox, customer.apiKey, id, 'failed', { timeoutMs: s.timeoutMs, intervalMs: 100 });
  const to = new Date(Date.now() + 1000).toISOString();
  const firstWebhookIds = new Set(hook.requests.map((r) => r.headers['webhook-id']));

  hook.answerOtherwise({ status: 200 });
  const body = { filter: { start_time: from, end_time: to, status: 'failed', event_type: customer.eventType } };
  const created = await s.inbox.request('POST', '/api/v1/replays', { apiKey: customer.apiKey, json: body, headers: { 'idempotency-key': `replay-${customer.customerId}` } });
  assert.equal(created.status, 202, created.text);
  assert.equal(created.body.status, 'running');
  assert.deepEqual(created.body.filter, { start_time: new Date(Date.parse(from)).toISOString(), end_time: new Date(Date.parse(to)).toISOString(), status: 'failed', event_type: customer.eventType });
  const repeat = await s.inbox.request('POST', '/api/v1/replays', { apiKey: customer.apiKey, json: body, headers: { 'idempotency-key': `replay-${customer.customerId}` } });
  assert.equal(repeat.status, 202, repeat.text);
  assert.equal(repeat.body.replay_id, created.body.replay_id, 'the same key and filter: the same job');
  assert.equal(repeat.headers.get('idempotent-replayed'), 'true');

  const done = await waitForReplay(s.inbox, customer.apiKey, created.body.replay_id, (r) => r.settled, s.timeoutMs);
  assert.equal(done.status, 'completed');
  assert.deepEqual(done.counts, { matched: 3, enqueued: 3, processed: 3, unmatched: 0, deliveries: 3, delivered: 3, failed: 0 });
  assert.match(done.finished_at, /Z$/);
  for (const id of failing) await waitForEventStatus(s.inbox, customer.apiKey, id, 'delivered', { timeoutMs: s.timeoutMs, intervalMs: 100 });
  const replayed = hook.requests.filter((r) => r.answer.status === 200);
  assert.equal(replayed.length, 3, 'each failed event of the type once, the other type not');
  assert.deepEqual(new Set(replayed.map((r) => JSON.parse(r.body)[0].event_id)), new Set(failing));
  assert.ok(replayed.every((r) => !firstWebhookIds.has(r.headers['webhook-id'])), 'a replay is a new delivery with a new webhook-id');
  assert.equal((await waitForEventStatus(s.inbox, customer.apiKey, other, 'failed')).status, 'failed');

  // Only some of the window's events match the filter's subscription: the others are counted
  // `unmatched`, so the job still settles (before, delivered + failed never reached enqueued).
  const onlyOther = await s.receiver();
  const narrow = await createSubscription(s.inbox, customer.apiKey, { event_selector: { type: 'event_type', value: `${customer.eventType}.other` }, webhook_url: onlyOther.url() });
  const partial = await s.inbox.request('POST', '/api/v1/replays', { apiKey: customer.apiKey, json: { filter: { start_time: from, end_time: to, workflow_id: narrow.workflow_id } } });
  assert.equal(partial.status, 202, partial.text);
  const partialDone = await waitForReplay(s.inbox, customer.apiKey, partial.body.replay_id, (r) => r.settled, s.timeoutMs);
  assert.deepEqual(partialDone.counts, { matched: 4, enqueued: 4, processed: 4, unmatched: 3, deliveries: 1, delivered: 1, failed: 0 });
  assert.deepEqual(onlyOther.requests.map((r) => JSON.parse(r.body)[0].event_id), [other]);

  // Without a subscription in the filter an event fans out again: one event, two deliveries.
  const fanOut = await s.inbox.request('POST', '/api/v1/replays', { apiKey: customer.apiKey, json: { filter: { start_time: from, end_time: to, event_type: `${customer.eventType}.other` } } });
  assert.equal(fanOut.status, 202, fanOut.text);
  const fanOutDone = await waitForReplay(s.inbox, customer.apiKey, fanOut.body.replay_id, (r) => r.settled, s.timeoutMs);
  assert.deepEqual(fanOutDone.counts, { matched: 1, enqueued: 1, processed: 1, unmatched: 0, deliveries: 2, delivered: 2, failed: 0 });
  assert.equal(onlyOther.requests.length, 2);
}
