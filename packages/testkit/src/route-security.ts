import assert from 'node:assert/strict';
import type { AnyRoute, AuthKind } from '@triggers/core/http';
import type { HttpClient } from '@triggers/core/testing';
import { inboxEvents, issueApiKey, newCustomer, patchCustomer } from './api-helpers.ts';
import { waitUntil } from './helpers.ts';
import { assertNothingInternal, assertProblem } from './problem-assertions.ts';

/**
 * The security tests every route must pass, generated from a service's route table (unkey style):
 * a new route is covered without writing a test for it. Each refused credential is one test that
 * sends it to every route of its kind and expects 401 with `WWW-Authenticate: Bearer`, the
 * request id echoed and nothing internal or secret in the problem.
 */

export interface RouteSecurityOptions {
  /** The server under test (its client holds the admin token). */
  server: () => Pick<HttpClient, 'request' | 'url'>;
  /** The service's route table, read once the server runs. */
  routes: () => AnyRoute[];
  adminToken: string;
  /** The authenticated kinds the service has routes of. */
  kinds: readonly Extract<AuthKind, 'api_key' | 'admin'>[];
  /**
   * A valid body per POST path (answered 202): those routes also get the key life-cycle checks —
   * revoked, expired, disabled customer — and "401 before looking at the body". The server must
   * run with a small `TRIGGERS_API_KEY_CACHE_MS` (≤ 200 ms) for them.
   */
  validBodies?: Record<string, () => unknown>;
}

/** Credentials each kind of route refuses; `customer` stands for a valid customer API key. */
function refusedCredentials(adminToken: string): Record<'api_key' | 'admin', [string, string | undefined][]> {
  return {
    api_key: [
      ['no Authorization header', undefined],
      ['an empty bearer token', 'Bearer '],
      ['another scheme', 'Basic c2tfbGl2ZTp4eHg='],
      ['a token without a scheme', `sk_live_${'A'.repeat(43)}`],
      ['a key that is too short', 'Bearer sk_live_short'],
      ['a key with an unknown prefix', `Bearer pk_live_${'A'.repeat(43)}`],
      ['a key with characters outside the alphabet', `Bearer sk_live_${'A'.repeat(40)}%$!`],
      ['an unknown well-formed key', `Bearer sk_live_${'A'.repeat(43)}`],
      ['the admin token', `Bearer ${adminToken}`],
    ],
    admin: [
      ['no Authorization header', undefined],
      ['a wrong admin token', 'Bearer wrong-admin-token-0123456789'],
      ['the admin token with another scheme', `Basic ${adminToken}`],
      ['a customer API key', 'customer'],
    ],
  };
}

/** A concrete URL for a route: every path parameter an unknown id. */
export function concretePath(route: Pick<AnyRoute, 'path'>): string {
  return route.path.replace(/:[A-Za-z_]+/g, () => crypto.randomUUID());
}

export function describeRouteSecurity(options: RouteSecurityOptions): void {
  const credentials = refusedCredentials(options.adminToken);
  const assertUnauthorized = (response: Awaited<ReturnType<HttpClient['request']>>, where: string, ...secrets: string[]) => {
    assert.equal(response.status, 401, `${where}: ${response.text}`);
    assertProblem(response, 401, 'unauthorized');
    assert.equal(response.headers.get('www-authenticate'), 'Bearer', where);
    assertNothingInternal(response.text, options.adminToken, ...secrets);
  };

  describe('401 unauthorized with WWW-Authenticate: Bearer on every authenticated route', () => {
    for (const kind of options.kinds) {
      for (const [what, authorization] of credentials[kind]) {
        it(`${kind} routes, for ${what}, echoing X-Request-Id`, async () => {
          const server = options.server();
          const routes = options.routes().filter((route) => route.auth === kind);
          assert.ok(routes.length > 0, `the service has ${kind} routes`);
          const customer = authorization === 'customer' ? await newCustomer(server) : undefined;
          for (const route of routes) {
            const headers: Record<string, string> = { 'x-request-id': 'security-check-1' };
            if (customer) headers.authorization = `Bearer ${customer.apiKey}`;
            else if (authorization !== undefined) headers.authorization = authorization;
            const path = concretePath(route);
            const body = options.validBodies?.[route.path]?.() ?? {};
            const withBody = route.method === 'post' || route.method === 'patch';
            const response = await server.request(route.method.toUpperCase(), path, { headers, ...(withBody ? { json: body } : {}) });
            const where = `${route.method.toUpperCase()} ${route.path}`;
            assertUnauthorized(response, where, ...(customer ? [customer.apiKey] : []));
            assert.equal(response.headers.get('x-request-id'), 'security-check-1', where);
          }
        });
      }
    }
  });

  for (const [path, validBody] of Object.entries(options.validBodies ?? {})) {
    describe(`401 on POST ${path} for keys that stopped being valid, and before the body is read`, () => {
      const send = (apiKey: string) => options.server().request('POST', path, { apiKey, json: validBody() });
      const refusedWithin = (apiKey: string, what: string) =>
        waitUntil(async () => (await options.server().request('GET', '/api/v1/inbox', { apiKey })).status === 401, { timeoutMs: 2000, what });

      it('for a revoked key, within the key cache time, while the customer’s other key keeps working', async () => {
        const server = options.server();
        const customer = await newCustomer(server);
        const spare = await issueApiKey(server, customer.customerId);
        assert.equal((await send(customer.apiKey)).status, 202);

        const revoked = await server.request('DELETE', `/admin/api-keys/${customer.keyId}`, { admin: true });
        assert.equal(revoked.status, 204);
        const took = await refusedWithin(customer.apiKey, 'the revoked key to be refused');
        assert.ok(took < 1000, `took ${took} ms`);
        assertUnauthorized(await send(customer.apiKey), path, customer.apiKey);

        assert.equal((await send(spare.apiKey)).status, 202);
        assert.equal((await inboxEvents(server, spare.apiKey)).length, 2 * eventsIn(validBody()), 'only the accepted requests stored events');
      });

      it('for an expired key', async () => {
        const server = options.server();
        const { customerId } = await newCustomer(server);
        const expiring = await issueApiKey(server, customerId, Date.now() + 400);
        assert.equal((await send(expiring.apiKey)).status, 202);
        await refusedWithin(expiring.apiKey, 'the expired key to be refused');
        assertUnauthorized(await send(expiring.apiKey), path, expiring.apiKey);
      });

      it('for every key of a disabled customer, and again accepted once re-enabled', async () => {
        const server = options.server();
        const { customerId, apiKey } = await newCustomer(server);
        const second = await issueApiKey(server, customerId);
        await patchCustomer(server, customerId, { status: 'disabled' });
        await refusedWithin(apiKey, 'the customer to be refused');
        assertUnauthorized(await send(apiKey), path, apiKey);
        assertUnauthorized(await send(second.apiKey), path, second.apiKey);

        await patchCustomer(server, customerId, { status: 'active' });
        await waitUntil(async () => (await server.request('GET', '/api/v1/inbox', { apiKey })).status === 200, { timeoutMs: 2000, what: 'the customer to be accepted again' });
        assert.deepEqual(await inboxEvents(server, apiKey), [], 'nothing was stored while disabled');
      });

      it('before looking at the body: no validation, size or media-type answer leaks to an anonymous caller', async () => {
        const server = options.server();
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
}

/** How many events a request body for either ingest route holds. */
function eventsIn(body: unknown): number {
  const events = (body as { events?: unknown[] }).events;
  return Array.isArray(events) ? events.length : 1;
}
