import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Webhook } from 'standardwebhooks';
import type { TestServer } from '@triggers/all-in-one/test-server';
import { startWebhookReceiver, type ReceivedRequest, type WebhookReceiver, type WebhookReceiverOptions } from '@triggers/testkit';

/** Shared by the deliverer's end-to-end tests. */

export { waitForEventStatus, type EventWithAttempts } from '@triggers/testkit';
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A customer of its own and a fresh event type, so no other test's subscription can match. */
export async function newCustomer(server: TestServer): Promise<{ apiKey: string; customerId: string; eventType: string }> {
  const { apiKey, customerId } = await server.createCustomer();
  return { apiKey, customerId, eventType: `test.${randomUUID().slice(0, 8)}` };
}

export interface CreatedSubscription {
  workflow_id: string;
  secret: string;
  status: string;
  [field: string]: unknown;
}

/** Subscribes through the real route to events of `eventType`. */
export async function subscribe(server: TestServer, apiKey: string, eventType: string, webhookUrl: string): Promise<CreatedSubscription> {
  const response = await server.request('POST', '/api/v1/subscriptions', {
    apiKey,
    json: { event_selector: { type: 'event_type', value: eventType }, webhook_url: webhookUrl },
  });
  assert.equal(response.status, 201, response.text);
  return response.body;
}

export interface PostedEvent {
  event_id: string;
  timestamp: string;
}

/** Posts through the real `POST /api/v1/events` route. */
export async function postEvent(server: TestServer, apiKey: string, payload: Record<string, unknown>): Promise<PostedEvent> {
  const response = await server.request('POST', '/api/v1/events', { apiKey, json: { payload } });
  assert.equal(response.status, 202, response.text);
  return response.body;
}

/** Posts several events in one `POST /api/v1/events/batch`, so the deliverer gets them together. */
export async function postEvents(server: TestServer, apiKey: string, payloads: Record<string, unknown>[]): Promise<PostedEvent[]> {
  const response = await server.request('POST', '/api/v1/events/batch', { apiKey, json: { events: payloads.map((payload) => ({ payload })) } });
  assert.equal(response.status, 202, response.text);
  return response.body.events;
}

/** Receivers started through this are closed by `closeAll` (call it in `afterEach`). */
export function receiverPool(): { start(options?: WebhookReceiverOptions): Promise<WebhookReceiver>; closeAll(): Promise<void> } {
  const open: WebhookReceiver[] = [];
  return {
    async start(options) {
      const receiver = await startWebhookReceiver(options);
      open.push(receiver);
      return receiver;
    },
    async closeAll() {
      await Promise.all(open.splice(0).map((r) => r.close()));
    },
  };
}

/** A port nothing listens on (bound, then released). */
export async function unusedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** The three Standard Webhooks headers of a received request. */
export function webhookHeaders(request: ReceivedRequest): Record<string, string> {
  const pick = (name: string) => {
    const value = request.headers[name];
    assert.equal(typeof value, 'string', `header ${name}`);
    return value as string;
  };
  return { 'webhook-id': pick('webhook-id'), 'webhook-timestamp': pick('webhook-timestamp'), 'webhook-signature': pick('webhook-signature') };
}

/** Verifies a received request with the `standardwebhooks` package, as a customer's receiver would; throws if it does not verify. */
export function verifySignature(request: ReceivedRequest, secret: string): unknown {
  return new Webhook(secret).verify(request.body, webhookHeaders(request));
}

/** Milliseconds between consecutive values. */
export function gaps(times: number[]): number[] {
  return times.slice(1).map((t, i) => t - times[i]);
}

/**
 * Watches this process's event loop. On a shared machine the whole process (server and test
 * alike) can be held up by other tenants; a timing bound may excuse a stall it measured, which on
 * a quiet machine is a few milliseconds.
 */
export function watchEventLoopStalls(): { longestMs(): number; stop(): void } {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  return {
    longestMs: () => Math.round(histogram.max / 1e6),
    stop: () => histogram.disable(),
  };
}
