import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { uuidv7Time } from '@triggers/core/domain';
import type { HttpClient, TestResponse } from '@triggers/core/testing';
import { sleep } from './helpers.ts';

/**
 * Calls through the public and admin HTTP API, for tests of any server shape (the embedded
 * all-in-one's `TestServer`, or one service process through `httpClient`): each asserts the
 * documented success status, so a test reads as the steps a client takes.
 */

/** Anything that answers the API: `admin: true` needs a client that holds the admin token. */
export type ApiClient = Pick<HttpClient, 'request'>;

export const RFC3339_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** RFC 9562 version 7, variant 10xx, lower-case. */
export const UUIDV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const WHSEC = /^whsec_[A-Za-z0-9+/]+={0,2}$/;

/** A customer and one of its API keys. */
export interface CustomerCredentials {
  customerId: string;
  apiKey: string;
}

export interface ApiCustomer extends CustomerCredentials {
  /** The id of `apiKey`, for revoking it. */
  keyId: string;
  /** A fresh event type: no other test's subscription matches it. */
  eventType: string;
}

/** A customer of its own through `POST /admin/test-customer`. */
export async function newCustomer(api: ApiClient, name = 'Test customer'): Promise<ApiCustomer> {
  const response = await api.request('POST', '/admin/test-customer', { admin: true, json: { name, email: `${randomUUID().slice(0, 8)}@example.test` } });
  assert.equal(response.status, 201, response.text);
  return { customerId: response.body.customer_id, apiKey: response.body.api_key, keyId: response.body.key_id, eventType: `test.${randomUUID().slice(0, 8)}` };
}

/** Another key for the customer (`expiresAt` in epoch ms, or none). */
export async function issueApiKey(api: ApiClient, customerId: string, expiresAt?: number): Promise<{ apiKey: string; keyId: string }> {
  const json = expiresAt === undefined ? undefined : { expires_at: new Date(expiresAt).toISOString() };
  const response = await api.request('POST', `/admin/customers/${customerId}/api-keys`, { admin: true, json });
  assert.equal(response.status, 201, response.text);
  return { apiKey: response.body.api_key, keyId: response.body.key_id };
}

export async function patchCustomer(api: ApiClient, customerId: string, json: Record<string, unknown>): Promise<void> {
  const response = await api.request('PATCH', `/admin/customers/${customerId}`, { admin: true, json });
  assert.equal(response.status, 200, response.text);
}

export interface CreatedSubscription {
  workflow_id: string;
  secret: string;
  status: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [field: string]: any;
}

/** Subscribes through the public route to events of `eventType`. */
export function subscribe(api: ApiClient, apiKey: string, eventType: string, webhookUrl: string): Promise<CreatedSubscription> {
  return createSubscription(api, apiKey, { event_selector: { type: 'event_type', value: eventType }, webhook_url: webhookUrl });
}

/** A selector that matches nothing the tests post. */
export const neverMatching = { type: 'event_type', value: 'test.never-posted' } as const;

/** A subscription through the public route; by default it matches nothing, so nothing is delivered. */
export async function createSubscription(api: ApiClient, apiKey: string, overrides: Record<string, unknown> = {}): Promise<CreatedSubscription> {
  const response = await api.request('POST', '/api/v1/subscriptions', {
    apiKey,
    json: { event_selector: neverMatching, webhook_url: 'https://hooks.example.com/triggers', ...overrides },
  });
  assert.equal(response.status, 201, response.text);
  return response.body;
}

export interface PostedEvent {
  event_id: string;
  timestamp: string;
}

/** A JSON POST with an API key and optional extra headers; no assertion. */
export function post(api: ApiClient, path: string, apiKey: string, json: unknown, headers: Record<string, string> = {}): Promise<TestResponse> {
  return api.request('POST', path, { apiKey, json, headers });
}

/** Posts one event through `POST /api/v1/events`; asserts the 202. */
export async function postEvent(api: ApiClient, apiKey: string, payload: Record<string, unknown>, headers?: Record<string, string>): Promise<PostedEvent> {
  const response = await api.request('POST', '/api/v1/events', { apiKey, json: { payload }, headers });
  assert.equal(response.status, 202, response.text);
  return response.body;
}

/** Posts several events in one `POST /api/v1/events/batch`; ids come back in request order. */
export async function postEvents(api: ApiClient, apiKey: string, payloads: Record<string, unknown>[]): Promise<PostedEvent[]> {
  const response = await api.request('POST', '/api/v1/events/batch', { apiKey, json: { events: payloads.map((payload) => ({ payload })) } });
  assert.equal(response.status, 202, response.text);
  return response.body.events;
}

/** Posts events one by one, each in a later millisecond than the one before. */
export async function postEventsInDistinctMillis(api: ApiClient, apiKey: string, payloads: Record<string, unknown>[]): Promise<PostedEvent[]> {
  const posted: PostedEvent[] = [];
  for (const payload of payloads) {
    const event = await postEvent(api, apiKey, payload);
    posted.push(event);
    const at = Date.parse(event.timestamp);
    while (Date.now() <= at + 1) await sleep(1);
  }
  return posted;
}

/** The event id's embedded millisecond is the accepted `timestamp`. */
export function assertAcceptedAt(eventId: string, timestamp: string): void {
  assert.match(eventId, UUIDV7);
  assert.match(timestamp, RFC3339_MILLIS);
  assert.equal(uuidv7Time(eventId), Date.parse(timestamp), `${eventId} encodes ${new Date(uuidv7Time(eventId)).toISOString()}, not ${timestamp}`);
}

/** The customer's inbox, newest first, one page (the tests stay far below it). */
export async function inboxEvents(api: ApiClient, apiKey: string): Promise<Record<string, any>[]> {
  const response = await api.request('GET', '/api/v1/inbox?limit=1000', { apiKey });
  assert.equal(response.status, 200, response.text);
  return response.body.events;
}

/** Every event of the customer's inbox, following cursors. */
export async function allInboxEvents(api: ApiClient, apiKey: string, query = ''): Promise<{ event_id: string; status: string }[]> {
  const events: { event_id: string; status: string }[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const params = new URLSearchParams(query);
    params.set('limit', '100');
    if (cursor) params.set('cursor', cursor);
    const response = await api.request('GET', `/api/v1/inbox?${params}`, { apiKey });
    assert.equal(response.status, 200, response.text);
    events.push(...response.body.events);
    if (!response.body.has_more) return events;
    cursor = response.body.cursor;
  }
  throw new Error('inbox paging did not end');
}
