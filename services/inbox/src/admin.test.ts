import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startTestServer, type TestServer } from '@triggers/all-in-one/test-server';
import { RFC3339_MILLIS, WHSEC, assertProblem, neverMatching, sleep, waitUntil } from '@triggers/testkit';

const HOOK = 'https://hooks.example.com/admin';

/** Every byte the embedded server has written to its data folder (database, WAL, ...). */
function dataFolderBytes(server: TestServer): string {
  return readdirSync(server.dataDir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => readFileSync(path.join(entry.parentPath, entry.name)).toString('latin1'))
    .join('\n');
}

describe('Admin API', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.close();
  });

  const admin = (method: string, urlPath: string, json?: unknown) => server.request(method, urlPath, { admin: true, json });
  const inboxStatus = async (apiKey: string) => (await server.request('GET', '/api/v1/inbox?limit=1', { apiKey })).status;

  describe('POST /admin/test-customer', () => {
    it('201 with the customer and an sk_test_ key that works; only its hash is stored', async () => {
      const response = await admin('POST', '/admin/test-customer', { name: 'Acme', email: 'ops@acme.test' });
      assert.equal(response.status, 201, response.text);
      const body = response.body;
      assert.deepEqual(Object.keys(body).sort(), ['api_key', 'customer_id', 'email', 'key_id', 'name', 'status']);
      assert.match(body.customer_id, /^[0-9a-f-]{36}$/);
      assert.match(body.key_id, /^[0-9a-f-]{36}$/);
      assert.match(body.api_key, /^sk_test_[A-Za-z0-9_-]{32,}$/);
      assert.equal(body.name, 'Acme');
      assert.equal(body.email, 'ops@acme.test');
      assert.equal(body.status, 'active');
      assert.equal(await inboxStatus(body.api_key), 200);
      assert.equal(dataFolderBytes(server).includes(body.api_key), false, 'the key itself is never written');
    });

    for (const [what, json] of [
      ['no name', { email: 'a@b.test' }],
      ['no email', { name: 'A' }],
      ['an empty name', { name: '  ', email: 'a@b.test' }],
      ['a malformed email', { name: 'A', email: 'not-an-email' }],
      ['an unknown field', { name: 'A', email: 'a@b.test', plan: 'gold' }],
    ] as const) {
      it(`400 invalid_request: ${what}`, async () => {
        assertProblem(await admin('POST', '/admin/test-customer', json), 400, 'invalid_request');
      });
    }

    it('400 invalid_json and 415 unsupported_media_type', async () => {
      assertProblem(await server.request('POST', '/admin/test-customer', { admin: true, body: '{"name":', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json');
      assertProblem(await server.request('POST', '/admin/test-customer', { admin: true, body: 'name=A' }), 415, 'unsupported_media_type');
    });
  });

  describe('POST /admin/test-subscription', () => {
    it('201 with the subscription and its secret, owned by the named customer', async () => {
      const { customerId, apiKey } = await server.createCustomer();
      const response = await admin('POST', '/admin/test-subscription', { customer_id: customerId, event_selector: neverMatching, webhook_url: HOOK, description: 'from admin' });
      assert.equal(response.status, 201, response.text);
      assert.equal(response.body.customer_id, customerId);
      assert.match(response.body.secret, WHSEC);
      assert.equal(response.body.description, 'from admin');
      assert.equal(response.body.status, 'active');
      const { secret: _secret, ...withoutSecret } = response.body;
      const read = await server.request('GET', `/api/v1/subscriptions/${response.body.workflow_id}`, { apiKey });
      assert.deepEqual(read.body, withoutSecret);
    });

    it('404 not_found for an unknown customer', async () => {
      assertProblem(await admin('POST', '/admin/test-subscription', { customer_id: randomUUID(), event_selector: neverMatching, webhook_url: HOOK }), 404, 'not_found');
    });

    it('applies the same checks as the customer route', async () => {
      const { customerId } = await server.createCustomer();
      assertProblem(await admin('POST', '/admin/test-subscription', { customer_id: customerId, event_selector: { type: 'what' }, webhook_url: HOOK }), 400, 'invalid_selector');
      assertProblem(await admin('POST', '/admin/test-subscription', { customer_id: customerId, event_selector: neverMatching, webhook_url: 'http://169.254.169.254/' }), 400, 'invalid_webhook_url');
      assertProblem(await admin('POST', '/admin/test-subscription', { event_selector: neverMatching, webhook_url: HOOK }), 400, 'invalid_request');
      assertProblem(await admin('POST', '/admin/test-subscription', { customer_id: 'acme', event_selector: neverMatching, webhook_url: HOOK }), 400, 'invalid_request');
      assertProblem(await admin('POST', '/admin/test-subscription', { customer_id: customerId, event_selector: neverMatching, webhook_url: HOOK, x: 1 }), 400, 'invalid_request');
    });
  });

  describe('POST /admin/customers/{customer_id}/api-keys', () => {
    it('201 with a new key (no body needed) that works alongside the first', async () => {
      const { customerId, apiKey } = await server.createCustomer();
      const response = await server.request('POST', `/admin/customers/${customerId}/api-keys`, { admin: true });
      assert.equal(response.status, 201, response.text);
      const body = response.body;
      assert.deepEqual(Object.keys(body).sort(), ['api_key', 'created_at', 'customer_id', 'expires_at', 'key_id', 'prefix']);
      assert.equal(body.customer_id, customerId);
      assert.match(body.api_key, /^sk_test_/);
      assert.equal(body.prefix, body.api_key.slice(0, body.prefix.length));
      assert.ok(body.prefix.length < 16);
      assert.match(body.created_at, RFC3339_MILLIS);
      assert.equal(body.expires_at, null);
      assert.notEqual(body.api_key, apiKey);
      assert.equal(await inboxStatus(body.api_key), 200);
      assert.equal(await inboxStatus(apiKey), 200);
      assert.equal(dataFolderBytes(server).includes(body.api_key), false);
    });

    it('accepts an expires_at in the future, and {} or an empty body', async () => {
      const { customerId } = await server.createCustomer();
      const expiresAt = new Date(Date.now() + 3600_000).toISOString();
      const response = await admin('POST', `/admin/customers/${customerId}/api-keys`, { expires_at: expiresAt });
      assert.equal(response.status, 201, response.text);
      assert.equal(response.body.expires_at, expiresAt);
      assert.equal((await admin('POST', `/admin/customers/${customerId}/api-keys`, {})).status, 201);
      assert.equal((await admin('POST', `/admin/customers/${customerId}/api-keys`, { expires_at: null })).status, 201);
    });

    it('400 invalid_request for a past or malformed expires_at or an unknown field; 400 invalid_json; 415', async () => {
      const { customerId } = await server.createCustomer();
      const url = `/admin/customers/${customerId}/api-keys`;
      assertProblem(await admin('POST', url, { expires_at: new Date(Date.now() - 1000).toISOString() }), 400, 'invalid_request');
      assertProblem(await admin('POST', url, { expires_at: 'tomorrow' }), 400, 'invalid_request');
      assertProblem(await admin('POST', url, { scopes: ['all'] }), 400, 'invalid_request');
      assertProblem(await server.request('POST', url, { admin: true, body: '{', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json');
      assertProblem(await server.request('POST', url, { admin: true, body: 'expires_at=x', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type');
    });

    it('404 not_found for an unknown or malformed customer', async () => {
      assertProblem(await admin('POST', `/admin/customers/${randomUUID()}/api-keys`, {}), 404, 'not_found');
      assertProblem(await admin('POST', '/admin/customers/acme/api-keys', {}), 404, 'not_found');
    });
  });

  describe('DELETE /admin/api-keys/{key_id}', () => {
    it('204; 404 when unknown, malformed or already revoked', async () => {
      const { customerId } = await server.createCustomer();
      const issued = (await admin('POST', `/admin/customers/${customerId}/api-keys`, {})).body;
      const response = await admin('DELETE', `/admin/api-keys/${issued.key_id}`);
      assert.equal(response.status, 204);
      assert.equal(response.text, '');
      assertProblem(await admin('DELETE', `/admin/api-keys/${issued.key_id}`), 404, 'not_found');
      assertProblem(await admin('DELETE', `/admin/api-keys/${randomUUID()}`), 404, 'not_found');
      assertProblem(await admin('DELETE', '/admin/api-keys/sk_test_abc'), 404, 'not_found');
    });
  });

  describe('PATCH /admin/customers/{customer_id}', () => {
    it('200 with the customer; null restores the default rate', async () => {
      const { customerId } = await server.createCustomer({ name: 'Patchy', email: 'p@x.test' });
      const response = await admin('PATCH', `/admin/customers/${customerId}`, { rate_limit_per_second: 25 });
      assert.equal(response.status, 200, response.text);
      assert.deepEqual(Object.keys(response.body).sort(), ['created_at', 'customer_id', 'email', 'name', 'rate_limit_per_second', 'status']);
      assert.equal(response.body.customer_id, customerId);
      assert.equal(response.body.name, 'Patchy');
      assert.equal(response.body.rate_limit_per_second, 25);
      assert.equal(response.body.status, 'active');
      assert.match(response.body.created_at, RFC3339_MILLIS);
      const restored = await admin('PATCH', `/admin/customers/${customerId}`, { rate_limit_per_second: null, status: 'active' });
      assert.equal(restored.body.rate_limit_per_second, null);
      assert.equal((await admin('PATCH', `/admin/customers/${customerId}`, { rate_limit_per_second: 10_000_000 })).body.rate_limit_per_second, 10_000_000);
      assert.equal((await admin('PATCH', `/admin/customers/${customerId}`, { rate_limit_per_second: 1 })).body.rate_limit_per_second, 1);
    });

    for (const [what, json] of [
      ['an empty body', {}],
      ['rate 0', { rate_limit_per_second: 0 }],
      ['rate above 10,000,000', { rate_limit_per_second: 10_000_001 }],
      ['a fractional rate', { rate_limit_per_second: 1.5 }],
      ['a rate as a string', { rate_limit_per_second: '100' }],
      ['an unknown status', { status: 'banned' }],
      ['an unknown field', { name: 'Renamed' }],
    ] as const) {
      it(`400 invalid_request: ${what}`, async () => {
        const { customerId } = await server.createCustomer();
        assertProblem(await admin('PATCH', `/admin/customers/${customerId}`, json), 400, 'invalid_request');
      });
    }

    it('404 not_found for an unknown or malformed customer', async () => {
      assertProblem(await admin('PATCH', `/admin/customers/${randomUUID()}`, { status: 'disabled' }), 404, 'not_found');
      assertProblem(await admin('PATCH', '/admin/customers/acme', { status: 'disabled' }), 404, 'not_found');
    });

    it('a rate_limit_per_second change applies within 1 s, and so does going back to the default', async () => {
      const { customerId, apiKey } = await server.createCustomer();
      const twoEvents = { events: [{ payload: { n: 1 } }, { payload: { n: 2 } }] };
      const postTwo = () => server.request('POST', '/api/v1/events/batch', { apiKey, json: twoEvents });
      // Warm the key cache, as a busy client would.
      assert.equal((await postTwo()).status, 202);

      assert.equal((await admin('PATCH', `/admin/customers/${customerId}`, { rate_limit_per_second: 1 })).status, 200);
      // The key cache (1 s by default) is what delays it; the slack is polling and request time.
      // Single events: at a rate of 1 a batch of two is above the burst, a 413 that never passes.
      const postOne = () => server.request('POST', '/api/v1/events', { apiKey, json: { payload: { n: 1 } } });
      const lowered = await waitUntil(async () => (await postOne()).status === 429, { timeoutMs: 2000, intervalMs: 50, what: 'the lower rate' });
      assert.ok(lowered <= 1000 + 200, `applied after ${lowered} ms`);
      const refused = await postOne();
      assertProblem(refused, 429, 'rate_limited');
      assert.equal(refused.headers.get('ratelimit-limit'), '1');

      assert.equal((await admin('PATCH', `/admin/customers/${customerId}`, { rate_limit_per_second: null })).status, 200);
      const restored = await waitUntil(async () => (await postTwo()).status === 202, { timeoutMs: 2500, intervalMs: 50, what: 'the default rate' });
      assert.ok(restored <= 1000 + 200, `applied after ${restored} ms`);
      assert.equal((await postTwo()).headers.get('ratelimit-limit'), String(server.server.ctx.config.ingest.defaultRateLimitPerSecond));
    });
  });
});

describe('API key revocation and expiry (TRIGGERS_API_KEY_CACHE_MS=200)', () => {
  const CACHE_MS = 200;
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ TRIGGERS_API_KEY_CACHE_MS: String(CACHE_MS) });
  });
  after(async () => {
    await server?.close();
  });

  const inboxStatus = async (apiKey: string) => (await server.request('GET', '/api/v1/inbox?limit=1', { apiKey })).status;

  it('a revoked key is refused within the cache time; the customer’s other keys keep working', async () => {
    const { customerId, apiKey: firstKey } = await server.createCustomer();
    const second = (await server.request('POST', `/admin/customers/${customerId}/api-keys`, { admin: true })).body;
    assert.equal(await inboxStatus(second.api_key), 200);

    assert.equal((await server.request('DELETE', `/admin/api-keys/${second.key_id}`, { admin: true })).status, 204);
    const took = await waitUntil(async () => (await inboxStatus(second.api_key)) === 401, { timeoutMs: 2000, intervalMs: 20, what: 'revocation' });
    assert.ok(took <= CACHE_MS + 300, `took ${took} ms`);
    const refused = await server.request('POST', '/api/v1/events', { apiKey: second.api_key, json: { payload: { n: 1 } } });
    assertProblem(refused, 401, 'unauthorized');
    assert.equal(refused.headers.get('www-authenticate'), 'Bearer');
    assert.equal(await inboxStatus(firstKey), 200);
  });

  it('an expired key is refused', async () => {
    const { customerId } = await server.createCustomer();
    const expiresAt = Date.now() + 600;
    const key = (await server.request('POST', `/admin/customers/${customerId}/api-keys`, { admin: true, json: { expires_at: new Date(expiresAt).toISOString() } })).body;
    assert.equal(await inboxStatus(key.api_key), 200);
    await waitUntil(async () => (await inboxStatus(key.api_key)) === 401, { timeoutMs: 3000, intervalMs: 20, what: 'expiry' });
    assert.ok(Date.now() >= expiresAt, 'not refused before it expired');
    assert.ok(Date.now() <= expiresAt + CACHE_MS + 250);
  });

  it('disabling a customer stops its keys within the cache time; enabling restores them', async () => {
    const { customerId, apiKey } = await server.createCustomer();
    assert.equal(await inboxStatus(apiKey), 200);
    assert.equal((await server.request('PATCH', `/admin/customers/${customerId}`, { admin: true, json: { status: 'disabled' } })).body.status, 'disabled');
    const took = await waitUntil(async () => (await inboxStatus(apiKey)) === 401, { timeoutMs: 2000, intervalMs: 20, what: 'disabling' });
    assert.ok(took <= CACHE_MS + 300, `took ${took} ms`);
    await server.request('PATCH', `/admin/customers/${customerId}`, { admin: true, json: { status: 'active' } });
    await sleep(CACHE_MS + 20);
    assert.equal(await inboxStatus(apiKey), 200);
  });
});
