import assert from 'node:assert/strict';
import type { HttpClient } from '@triggers/core/testing';
import { createSubscription, newCustomer, postEvent } from './api-helpers.ts';
import { waitForEventStatus, type EventWithAttempts } from './wait-for-event.ts';
import type { WebhookReceiver, WebhookReceiverOptions } from './webhook-receiver.ts';

export interface RetryPolicyScenario {
  ingest: HttpClient;
  inbox: HttpClient;
  receiver(options?: WebhookReceiverOptions): Promise<WebhookReceiver>;
  /** The services' TRIGGERS_MAX_ATTEMPTS: the subscription's own count must differ from it. */
  settingsMaxAttempts: number;
  /** How late past its due time a retry may fire on this queue (a delay topic is coarser than SQLite). */
  lateMs: number;
  timeoutMs: number;
}

/** ±20 % jitter on every delay (API.md). */
const JITTER = 0.2;
/** An attempt may start up to 5 ms early (timer granularity); 1 ms more for rounding. */
const EARLY_MS = 6;

/**
 * Issue 14 item 3, end to end: a subscription's own `retry` (schedule and max_attempts) governs its
 * deliveries, not the settings'; while a delivery waits, `GET /api/v1/events/{id}` shows its
 * `attempts_made` and a `next_attempt_at` that follows the schedule; it ends `failed` after
 * exactly max_attempts requests under one webhook-id.
 */
export async function runRetryPolicyScenario(s: RetryPolicyScenario): Promise<void> {
  const schedule = [600, 900, 1200];
  const maxAttempts = schedule.length + 1;
  assert.notEqual(maxAttempts, s.settingsMaxAttempts, 'the scenario needs a count other than the setting');
  const customer = await newCustomer(s.inbox);
  const hook = await s.receiver({ otherwise: { status: 503 } });
  await createSubscription(s.inbox, customer.apiKey, { event_selector: { type: 'event_type', value: customer.eventType }, webhook_url: hook.url(), retry: { max_attempts: maxAttempts, schedule_ms: schedule } });
  const { event_id: eventId } = await postEvent(s.ingest, customer.apiKey, { event_type: customer.eventType });

  const ended = (event: EventWithAttempts, n: number) => Date.parse(event.attempts[n].timestamp) + event.attempts[n].duration_ms;
  // A reading between attempts: the delivery's count agrees with the attempts recorded.
  const waiting = await waitForEventStatus(s.inbox, customer.apiKey, eventId, 'pending', {
    timeoutMs: s.timeoutMs,
    intervalMs: 50,
    until: (e) => e.attempts.length >= 1 && e.deliveries[0]?.attempts_made === e.attempts.length && e.deliveries[0].next_attempt_at !== null,
  });
  const made = waiting.deliveries[0].attempts_made;
  const dueIn = Date.parse(waiting.deliveries[0].next_attempt_at!) - ended(waiting, made - 1);
  const planned = schedule[made - 1];
  assert.ok(dueIn >= planned * (1 - JITTER) - EARLY_MS && dueIn <= planned * (1 + JITTER) + 50, `after attempt ${made}, next_attempt_at is ${dueIn} ms after it ended (schedule_ms[${made - 1}] = ${planned})`);

  const event = await waitForEventStatus(s.inbox, customer.apiKey, eventId, 'failed', { timeoutMs: s.timeoutMs, intervalMs: 100 });
  const expected = Array.from({ length: maxAttempts }, (_, i) => `${i + 1}:${i + 1 < maxAttempts ? 'retrying' : 'failed'}:503`);
  assert.deepEqual(event.attempts.map((a) => `${a.attempt}:${a.status}:${a.status_code}`), expected, `max_attempts ${maxAttempts}, not the setting's ${s.settingsMaxAttempts}`);
  assert.deepEqual(event.deliveries.map((d) => [d.status, d.attempts_made, d.next_attempt_at]), [['failed', maxAttempts, null]]);
  assert.match(event.deliveries[0].failure_reason ?? '', new RegExp(`gave up after ${maxAttempts} attempts: HTTP 503`));
  const requests = await hook.waitFor(maxAttempts, 1000);
  assert.equal(requests.length, maxAttempts, 'no request after the last attempt');
  assert.equal(new Set(requests.map((r) => r.headers['webhook-id'])).size, 1, 'one webhook-id across the retries');
  // Each retry started after its schedule's delay from the attempt before it ended.
  const starts = event.attempts.map((a) => Date.parse(a.timestamp));
  for (const [i, delay] of schedule.entries()) {
    const waited = starts[i + 1] - ended(event, i);
    assert.ok(waited >= delay * (1 - JITTER) - EARLY_MS, `retry ${i + 1} waited ${waited} ms: at least schedule_ms[${i}] = ${delay} less 20 %`);
    assert.ok(waited <= delay * (1 + JITTER) + s.lateMs, `retry ${i + 1} waited ${waited} ms: at most schedule_ms[${i}] = ${delay} plus 20 % and ${s.lateMs} ms`);
  }
}
