import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './test-server.ts';
import { assertProblem, rawRequest } from '@triggers/testkit';

/**
 * API.md's rules for any route, as the probes of issue 11 found them broken: 405 with `Allow` for a
 * method a known path does not serve, 431 as problem+json for oversized request lines and headers
 * (both in /openapi.json), and the field rules the document states exactly as the server applies them.
 */
describe('The HTTP contract for any route (API.md)', () => {
  let server: TestServer;
  let document: any;
  let apiKey: string;
  const PROBE_ID = '0190f3c2-0000-7000-8000-000000000000';
  before(async () => {
    server = await startTestServer();
    document = (await server.request('GET', '/openapi.json')).body;
    apiKey = (await server.createCustomer()).apiKey;
  });
  after(async () => {
    await server?.close();
  });

  const raw = (method: string, path: string, headers: [string, string][] = []) => rawRequest(server.url, { method, path, headers });
  const problemOf = (response: { headers: Record<string, string>; text: string }) => {
    assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
    return JSON.parse(response.text);
  };

  describe('405 method_not_allowed, with Allow derived from the route table', () => {
    const probedMethods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'TRACE'];

    it('answers every documented path, for every method it does not document, 405 with Allow listing exactly what it serves', async () => {
      const paths = Object.entries(document.paths as Record<string, Record<string, unknown>>);
      assert.ok(paths.length >= 20, `${paths.length} paths documented`);
      let probes = 0;
      for (const [template, operations] of paths) {
        const path = template.replace(/\{[^}]+\}/g, PROBE_ID);
        const documented = Object.keys(operations).map((m) => m.toUpperCase());
        const allow = [...new Set([...documented, ...(documented.includes('GET') ? ['HEAD'] : []), 'OPTIONS'])].sort().join(', ');
        for (const method of probedMethods.filter((m) => !documented.includes(m))) {
          const response = await raw(method, path, [['Authorization', `Bearer ${apiKey}`]]);
          assert.equal(response.status, 405, `${method} ${path}: ${response.status} ${response.text}`);
          assert.equal(response.headers.allow, allow, `${method} ${path}`);
          const problem = problemOf(response);
          assert.equal(problem.code, 'method_not_allowed');
          assert.equal(problem.status, 405);
          assert.ok(response.headers['x-request-id']);
          probes++;
        }
        const options = await raw('OPTIONS', path);
        assert.equal(options.status, 204, `OPTIONS ${path}`);
        assert.equal(options.headers.allow, allow, `OPTIONS ${path}`);
      }
      assert.ok(probes >= 60, `${probes} probes`);
    });

    it('takes a literal path before a templated one: /api/v1/events/batch serves POST only, /api/v1/events/stream GET', async () => {
      const get = await raw('GET', '/api/v1/events/batch', [['Authorization', `Bearer ${apiKey}`]]);
      assert.equal(get.status, 405, get.text);
      assert.equal(get.headers.allow, 'OPTIONS, POST');
      const deleteStream = await raw('DELETE', '/api/v1/events/stream');
      assert.equal(deleteStream.status, 405);
      assert.equal(deleteStream.headers.allow, 'GET, HEAD, OPTIONS');
    });

    it('comes before authentication, is case-insensitive and ignores a trailing slash like the router; unknown paths stay 404', async () => {
      const response = await raw('PUT', '/API/v1/Subscriptions/');
      assert.equal(response.status, 405);
      assert.equal(response.headers.allow, 'GET, HEAD, OPTIONS, POST');
      const unknown = await raw('PUT', '/api/v1/nothing-here');
      assert.equal(unknown.status, 404);
      assert.equal(problemOf(unknown).code, 'not_found');
    });

    it('is in /openapi.json: the MethodNotAllowed response with its Allow header, and the code in Problem', () => {
      const response = document.components.responses.MethodNotAllowed;
      assert.ok(response.headers.Allow.required);
      assert.match(response.description, /method_not_allowed/);
      assert.deepEqual(response.content['application/problem+json'].schema, { $ref: '#/components/schemas/Problem' });
      assert.ok(document.components.schemas.Problem.properties.code.enum.includes('method_not_allowed'));
    });
  });

  describe('431 request_header_too_large', () => {
    it('answers headers over the limit as problem+json with its own code', async () => {
      const response = await raw('GET', '/api/v1/inbox', [['X-Padding', 'a'.repeat(20_000)]]);
      assert.equal(response.status, 431);
      const problem = problemOf(response);
      assert.deepEqual(
        { code: problem.code, status: problem.status, type: problem.type },
        { code: 'request_header_too_large', status: 431, type: 'https://triggers.dev/problems/request-header-too-large' },
      );
      assert.match(problem.detail, /larger than the server's limit of \d+ bytes/);
    });

    it('answers a request line over the limit the same way', async () => {
      const response = await raw('GET', `/api/v1/inbox?cursor=${'a'.repeat(20_000)}`);
      assert.equal(response.status, 431);
      assert.equal(problemOf(response).code, 'request_header_too_large');
    });

    it('is documented on every operation of /openapi.json', () => {
      let operations = 0;
      for (const [path, methods] of Object.entries(document.paths as Record<string, Record<string, any>>)) {
        for (const [method, operation] of Object.entries(methods)) {
          assert.deepEqual(operation.responses['431'], { $ref: '#/components/responses/RequestHeaderTooLarge' }, `${method} ${path}`);
          operations++;
        }
      }
      assert.ok(operations >= 30);
      assert.match(document.components.responses.RequestHeaderTooLarge.description, /request_header_too_large/);
    });
  });

  describe('field rules, stated in /openapi.json exactly as the server applies them', () => {
    const subscription = (webhookUrl: unknown) => ({ event_selector: { type: 'event_type', value: 'contract.probe' }, webhook_url: webhookUrl });
    const createSubscription = (body: unknown) => server.request('POST', '/api/v1/subscriptions', { apiKey, json: body });

    it('an empty webhook_url is 400 invalid_webhook_url (on create and on update), as is one that is not an http(s) URL', async () => {
      assertProblem(await createSubscription(subscription('')), 400, 'invalid_webhook_url');
      assertProblem(await createSubscription(subscription('ftp://example.com/hook')), 400, 'invalid_webhook_url');
      assertProblem(await createSubscription(subscription('https://user:pw@example.com/hook')), 400, 'invalid_webhook_url');
      const created = await createSubscription(subscription('http://127.0.0.1:9/hook'));
      assert.equal(created.status, 201, created.text);
      const patched = await server.request('PATCH', `/api/v1/subscriptions/${created.body.workflow_id}`, { apiKey, json: { webhook_url: '' } });
      assertProblem(patched, 400, 'invalid_webhook_url');
      // Missing or not a string is a request problem, not a URL problem.
      assertProblem(await createSubscription({ event_selector: { type: 'event_type', value: 'x' } }), 400, 'invalid_request');
      assertProblem(await createSubscription(subscription(42)), 400, 'invalid_request');
    });

    it('documents webhook_url with its minimum length and the pattern the server applies', () => {
      const url = document.paths['/api/v1/subscriptions'].post.requestBody.content['application/json'].schema.properties.webhook_url;
      assert.equal(url.minLength, 1);
      const pattern = new RegExp(url.pattern);
      for (const good of ['https://example.com/webhooks/triggers', 'http://127.0.0.1:8080/x', 'http://[::1]:9/']) assert.ok(pattern.test(good), good);
      for (const bad of ['', 'ftp://example.com', 'http://user@example.com/', 'http://example.1/', 'http://example.com:65536/']) assert.equal(pattern.test(bad), false, bad);
    });

    it('limit=0 (or above the maximum) says what the range is', async () => {
      for (const limit of ['0', '1001', 'ten']) {
        const response = await server.request('GET', `/api/v1/inbox?limit=${limit}`, { apiKey });
        assertProblem(response, 400, 'invalid_request');
        assert.equal(response.body.detail, 'limit: must be a whole number from 1 to 1000', limit);
      }
      const subscriptions = await server.request('GET', '/api/v1/subscriptions?limit=0', { apiKey });
      assert.equal(subscriptions.body.detail, 'limit: must be a whole number from 1 to 1000');
      const inbox = document.paths['/api/v1/inbox'].get.parameters.find((p: { name: string }) => p.name === 'limit');
      assert.deepEqual({ type: inbox.schema.type, minimum: inbox.schema.minimum, maximum: inbox.schema.maximum }, { type: 'integer', minimum: 1, maximum: 1000 });
    });

    it('validates e-mail addresses: a local part of 64 characters passes, 65 is 400, and the document says so', async () => {
      const create = (email: string) => server.request('POST', '/admin/test-customer', { admin: true, json: { name: 'Email probe', email } });
      assert.equal((await create(`${'a'.repeat(64)}@example.com`)).status, 201);
      for (const bad of [`${'a'.repeat(65)}@example.com`, 'no-at-sign', 'a@b', '.a@example.com', 'a@-example.com', `a@${'b'.repeat(250)}.com`]) {
        const response = await create(bad);
        assertProblem(response, 400, 'invalid_request');
        assert.match(response.body.detail, /^email: must be /, bad);
      }
      const email = document.paths['/admin/test-customer'].post.requestBody.content['application/json'].schema.properties.email;
      assert.equal(email.format, 'email');
      assert.equal(email.maxLength, 254);
      const pattern = new RegExp(email.pattern);
      assert.ok(pattern.test(`${'a'.repeat(64)}@example.com`));
      assert.equal(pattern.test(`${'a'.repeat(65)}@example.com`), false);
    });

    it('a PATCH with nothing to change is 400, and the document says minProperties: 1', async () => {
      const created = await createSubscription(subscription('http://127.0.0.1:9/hook'));
      assertProblem(await server.request('PATCH', `/api/v1/subscriptions/${created.body.workflow_id}`, { apiKey, json: {} }), 400, 'invalid_request');
      for (const path of ['/api/v1/subscriptions/{workflow_id}', '/admin/customers/{customer_id}']) {
        assert.equal(document.paths[path].patch.requestBody.content['application/json'].schema.minProperties, 1, path);
      }
    });
  });
});
