import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TestServer } from '@triggers/all-in-one/test-server';
import type { TestResponse } from '@triggers/testkit';

/** Shared by the inbox service's tests. */

export const RFC3339_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const WHSEC = /^whsec_[A-Za-z0-9+/]+={0,2}$/;

export const randomId = (): string => randomUUID();
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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

/** Posts through the real `POST /api/v1/events/batch` route; ids come back in request order (oldest first). */
export async function postEvents(server: TestServer, apiKey: string, payloads: Record<string, unknown>[]): Promise<PostedEvent[]> {
  const response = await server.request('POST', '/api/v1/events/batch', { apiKey, json: { events: payloads.map((payload) => ({ payload })) } });
  assert.equal(response.status, 202, response.text);
  return response.body.events;
}

/** Posts events one by one, each in a later millisecond than the one before. */
export async function postEventsInDistinctMillis(server: TestServer, apiKey: string, payloads: Record<string, unknown>[]): Promise<PostedEvent[]> {
  const posted: PostedEvent[] = [];
  for (const payload of payloads) {
    const event = await postEvent(server, apiKey, payload);
    posted.push(event);
    const at = Date.parse(event.timestamp);
    while (Date.now() <= at + 1) await sleep(1);
  }
  return posted;
}

/** Asserts an RFC 9457 problem with the given status and code. */
export function assertProblem(response: TestResponse, status: number, code: string): void {
  assert.equal(response.status, status, response.text);
  assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(response.body?.code, code, response.text);
  assert.equal(response.body?.status, status);
  assert.equal(typeof response.body?.detail, 'string');
}

/** Polls `check` until it returns true; returns the milliseconds it took. */
export async function waitUntil(check: () => Promise<boolean>, options: { timeoutMs: number; intervalMs?: number; what: string }): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > options.timeoutMs) assert.fail(`Timed out after ${options.timeoutMs} ms waiting for ${options.what}`);
    await sleep(options.intervalMs ?? 20);
  }
}

export const neverMatching = { type: 'event_type', value: 'test.never-posted' } as const;

/** A subscription through the real route (its selector matches nothing the tests post, so nothing is delivered). */
export async function createSubscription(
  server: TestServer,
  apiKey: string,
  overrides: Record<string, unknown> = {},
): Promise<Record<string, any>> {
  const response = await server.request('POST', '/api/v1/subscriptions', {
    apiKey,
    json: { event_selector: neverMatching, webhook_url: 'https://hooks.example.com/triggers', ...overrides },
  });
  assert.equal(response.status, 201, response.text);
  return response.body;
}
