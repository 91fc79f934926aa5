import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { uuidv7Time } from '@triggers/core/domain';
import { TEST_ADMIN_TOKEN, type TestServer } from '@triggers/all-in-one/test-server';
import type { TestResponse } from '@triggers/testkit';

/** Shared by the ingest service's tests. */

export const RFC3339_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** RFC 9562 version 7, variant 10xx, lower-case. */
export const UUIDV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const PROBLEM_MEMBERS = ['code', 'detail', 'status', 'title', 'type'];

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface Customer {
  customerId: string;
  apiKey: string;
}

/** The event id's embedded millisecond is the accepted `timestamp`. */
export function assertAcceptedAt(eventId: string, timestamp: string): void {
  assert.match(eventId, UUIDV7);
  assert.match(timestamp, RFC3339_MILLIS);
  assert.equal(uuidv7Time(eventId), Date.parse(timestamp), `${eventId} encodes ${new Date(uuidv7Time(eventId)).toISOString()}, not ${timestamp}`);
}

/**
 * An RFC 9457 problem with exactly the documented members (plus `errors` when given), an
 * X-Request-Id, and nothing internal in it.
 */
export function assertProblem(response: TestResponse, status: number, code: string, extra: Record<string, unknown> = {}): void {
  assert.equal(response.status, status, response.text);
  assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json(;|$)/);
  assert.deepEqual(Object.keys(response.body ?? {}).sort(), [...PROBLEM_MEMBERS, ...Object.keys(extra)].sort(), response.text);
  assert.equal(response.body.status, status);
  assert.equal(response.body.code, code);
  assert.equal(response.body.type, `https://triggers.dev/problems/${code.replaceAll('_', '-')}`);
  assert.equal(typeof response.body.title, 'string');
  assert.ok(response.body.title.length > 0);
  assert.equal(typeof response.body.detail, 'string');
  assert.ok(response.body.detail.length > 0);
  for (const [member, value] of Object.entries(extra)) assert.deepEqual(response.body[member], value, member);
  assert.ok(response.headers.get('x-request-id'), 'X-Request-Id');
  assertNothingInternal(response.text);
}

/** No stack frame, SQL, engine name or filesystem path ever reaches a client. */
export function assertNothingInternal(text: string, ...secrets: string[]): void {
  const leaks: [string, RegExp][] = [
    ['a stack frame', /\bat [^\s"]+ \(|\bat [^\s"]*:\d+:\d+/],
    ['an Error class name', /\b[A-Z][A-Za-z]*Error\b/],
    ['SQL', /\b(SELECT|INSERT|UPDATE|DELETE)\b[\s\S]*\b(FROM|INTO|SET|WHERE)\b/i],
    ['the database engine', /sqlite|SQLITE_/i],
    ['a filesystem path', /(^|[\s"'(])\/(tmp|work|home|root|usr|var|app)\/|node_modules|\.db\b|\.ts\b/],
  ];
  for (const [what, pattern] of leaks) assert.doesNotMatch(text, pattern, `the response shows ${what}: ${text}`);
  for (const secret of secrets) assert.equal(text.includes(secret), false, 'the response repeats a secret');
}

/** A JSON POST with an API key and optional extra headers. */
export function post(server: TestServer, path: string, apiKey: string, json: unknown, headers: Record<string, string> = {}): Promise<TestResponse> {
  return server.request('POST', path, { apiKey, json, headers });
}

/** Every event in the customer's inbox, newest first (the tests stay far below one page). */
export async function inboxEvents(server: TestServer, apiKey: string): Promise<Record<string, any>[]> {
  const response = await server.request('GET', '/api/v1/inbox?limit=1000', { apiKey });
  assert.equal(response.status, 200, response.text);
  return response.body.events;
}

/** A customer with its key id, for revoking: `createCustomer` does not return it. */
export async function createCustomerWithKeyId(server: TestServer): Promise<Customer & { keyId: string }> {
  const response = await server.request('POST', '/admin/test-customer', { admin: true, json: { name: 'Keyed', email: 'keyed@example.test' } });
  assert.equal(response.status, 201, response.text);
  return { customerId: response.body.customer_id, apiKey: response.body.api_key, keyId: response.body.key_id };
}

/** Another key for the customer (`expiresAt` in epoch ms, or none). */
export async function issueApiKey(server: TestServer, customerId: string, expiresAt?: number): Promise<{ apiKey: string; keyId: string }> {
  const json = expiresAt === undefined ? undefined : { expires_at: new Date(expiresAt).toISOString() };
  const response = await server.request('POST', `/admin/customers/${customerId}/api-keys`, { admin: true, json });
  assert.equal(response.status, 201, response.text);
  return { apiKey: response.body.api_key, keyId: response.body.key_id };
}

export async function patchCustomer(server: TestServer, customerId: string, json: Record<string, unknown>): Promise<void> {
  const response = await server.request('PATCH', `/admin/customers/${customerId}`, { admin: true, json });
  assert.equal(response.status, 200, response.text);
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

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/**
 * Writes one HTTP/1.1 request byte for byte on a fresh socket (`Connection: close`), for what fetch
 * and node:http refuse to send: header values with control or non-ASCII bytes, an empty value.
 */
export function rawRequest(server: TestServer, request: { method: string; path: string; headers: [string, Buffer | string][]; body?: string }): Promise<RawResponse> {
  const body = Buffer.from(request.body ?? '', 'utf8');
  const lines: Buffer[] = [Buffer.from(`${request.method} ${request.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n`, 'latin1')];
  for (const [name, value] of request.headers) lines.push(Buffer.from(`${name}: `, 'latin1'), Buffer.from(value), Buffer.from('\r\n', 'latin1'));
  lines.push(Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'latin1'), body);
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.server.port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk) => received.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => resolve(parseResponse(Buffer.concat(received))));
    socket.write(Buffer.concat(lines));
  });
}

function parseResponse(bytes: Buffer): RawResponse {
  const text = bytes.toString('utf8');
  const split = text.indexOf('\r\n\r\n');
  const [statusLine, ...headerLines] = text.slice(0, split).split('\r\n');
  const headers = Object.fromEntries(
    headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
  );
  return { status: Number(statusLine.split(' ')[1]), headers, text: text.slice(split + 4) };
}

/**
 * Streams a body with node:http in `chunks` (Transfer-Encoding: chunked, no Content-Length), so
 * the server can only find out the size by reading.
 */
export function postChunked(server: TestServer, path: string, apiKey: string, chunks: string[]): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${server.url}${path}`,
      { method: 'POST', agent: false, headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' } },
      (response) => {
        const received: Buffer[] = [];
        response.on('data', (chunk: Buffer) => received.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(received).toString('utf8');
          const headers = new Headers();
          for (const [name, value] of Object.entries(response.headers)) if (typeof value === 'string') headers.set(name, value);
          resolve({ status: response.statusCode ?? 0, headers, text, body: text ? JSON.parse(text) : undefined });
        });
      },
    );
    // The server may answer 413 and stop reading before the last chunk: that is the point.
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    assert.equal(request.getHeader('content-length'), undefined);
    for (const chunk of chunks) request.write(chunk);
    request.end();
  });
}

/**
 * The 401 checks every ingest route must pass, generated for a route so none is forgotten (unkey
 * style). The server must run with a small `TRIGGERS_API_KEY_CACHE_MS` (≤ 200 ms).
 */
export function describeAuthentication(getServer: () => TestServer, path: string, validBody: () => unknown): void {
  const assertUnauthorized = (response: TestResponse, ...secrets: string[]) => {
    assertProblem(response, 401, 'unauthorized');
    assert.equal(response.headers.get('www-authenticate'), 'Bearer');
    assertNothingInternal(response.text, TEST_ADMIN_TOKEN, ...secrets);
  };
  const send = (authorization: string | undefined, headers: Record<string, string> = {}) =>
    getServer().request('POST', path, { json: validBody(), headers: { ...(authorization === undefined ? {} : { authorization }), ...headers } });

  describe(`401 unauthorized with WWW-Authenticate: Bearer on POST ${path}`, () => {
    const refused: [string, string | undefined][] = [
      ['no Authorization header', undefined],
      ['an empty bearer token', 'Bearer '],
      ['another scheme', 'Basic c2tfbGl2ZTp4eHg='],
      ['a token without a scheme', `sk_live_${'A'.repeat(43)}`],
      ['a key that is too short', 'Bearer sk_live_short'],
      ['a key with an unknown prefix', `Bearer pk_live_${'A'.repeat(43)}`],
      ['a key with characters outside the alphabet', `Bearer sk_live_${'A'.repeat(40)}%$!`],
      ['an unknown well-formed key', `Bearer sk_live_${'A'.repeat(43)}`],
      ['the admin token', `Bearer ${TEST_ADMIN_TOKEN}`],
    ];
    for (const [what, authorization] of refused) {
      it(`for ${what}, echoing X-Request-Id`, async () => {
        const response = await send(authorization, { 'x-request-id': 'auth-check-1' });
        assertUnauthorized(response);
        assert.equal(response.headers.get('x-request-id'), 'auth-check-1');
      });
    }

    it('for a revoked key, within the key cache time, while the customer’s other key keeps working', async () => {
      const server = getServer();
      const customer = await createCustomerWithKeyId(server);
      const spare = await issueApiKey(server, customer.customerId);
      assert.equal((await server.request('POST', path, { apiKey: customer.apiKey, json: validBody() })).status, 202);

      const revoked = await server.request('DELETE', `/admin/api-keys/${customer.keyId}`, { admin: true });
      assert.equal(revoked.status, 204);
      const took = await waitUntil(async () => (await server.request('GET', '/api/v1/inbox', { apiKey: customer.apiKey })).status === 401, {
        timeoutMs: 2000,
        what: 'the revoked key to be refused',
      });
      assert.ok(took < 1000, `took ${took} ms`);
      assertUnauthorized(await server.request('POST', path, { apiKey: customer.apiKey, json: validBody() }), customer.apiKey);

      assert.equal((await server.request('POST', path, { apiKey: spare.apiKey, json: validBody() })).status, 202);
      assert.equal((await inboxEvents(server, spare.apiKey)).length, 2 * eventsIn(validBody()), 'only the accepted requests stored events');
    });

    it('for an expired key', async () => {
      const server = getServer();
      const { customerId } = await server.createCustomer();
      const expiring = await issueApiKey(server, customerId, Date.now() + 400);
      assert.equal((await server.request('POST', path, { apiKey: expiring.apiKey, json: validBody() })).status, 202);
      await waitUntil(async () => (await server.request('GET', '/api/v1/inbox', { apiKey: expiring.apiKey })).status === 401, {
        timeoutMs: 2000,
        what: 'the expired key to be refused',
      });
      assertUnauthorized(await server.request('POST', path, { apiKey: expiring.apiKey, json: validBody() }), expiring.apiKey);
    });

    it('for every key of a disabled customer, and again accepted once re-enabled', async () => {
      const server = getServer();
      const { customerId, apiKey } = await server.createCustomer();
      const second = await issueApiKey(server, customerId);
      await patchCustomer(server, customerId, { status: 'disabled' });
      await waitUntil(async () => (await server.request('GET', '/api/v1/inbox', { apiKey })).status === 401, { timeoutMs: 2000, what: 'the customer to be refused' });
      assertUnauthorized(await server.request('POST', path, { apiKey, json: validBody() }), apiKey);
      assertUnauthorized(await server.request('POST', path, { apiKey: second.apiKey, json: validBody() }), second.apiKey);

      await patchCustomer(server, customerId, { status: 'active' });
      await waitUntil(async () => (await server.request('GET', '/api/v1/inbox', { apiKey })).status === 200, { timeoutMs: 2000, what: 'the customer to be accepted again' });
      assert.deepEqual(await inboxEvents(server, apiKey), [], 'nothing was stored while disabled');
    });

    it('before looking at the body: no validation, size or media-type answer leaks to an anonymous caller', async () => {
      const server = getServer();
      const bodies: [string, Record<string, string>, string][] = [
        ['invalid JSON', { 'content-type': 'application/json' }, '{"payload":'],
        ['an invalid request', { 'content-type': 'application/json' }, '{"nope":1}'],
        ['text/plain', { 'content-type': 'text/plain' }, 'hello'],
        ['a body far over the limit', { 'content-type': 'application/json' }, JSON.stringify({ payload: { big: 'x'.repeat(300_000) } })],
      ];
      for (const [what, headers, body] of bodies) {
        const response = await fetch(`${server.url}${path}`, { method: 'POST', headers, body });
        assert.equal(response.status, 401, what);
        assert.equal(response.headers.get('www-authenticate'), 'Bearer', what);
      }
    });
  });
}

/** How many events a request body for either route holds. */
function eventsIn(body: unknown): number {
  const events = (body as { events?: unknown[] }).events;
  return Array.isArray(events) ? events.length : 1;
}
