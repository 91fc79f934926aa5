import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { ERROR_CODES } from '@triggers/core/domain';
import type { AnyRoute } from '@triggers/core/http';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '@triggers/all-in-one/test-server';
import { inboxRoutes } from './index.ts';
import { assertProblem, createSubscription, describeRouteSecurity, postEvents } from '@triggers/testkit';


describe('Inbox service security', () => {
  let server: TestServer;
  let routes: AnyRoute[];
  before(async () => {
    server = await startTestServer();
    routes = inboxRoutes(server.server.ctx);
  });
  after(async () => {
    await server?.close();
  });

  it("covers every route of the service with the generated authentication tests; only the demo (/demo/*, the console's back end) is open", () => {
    assert.ok(routes.length >= 13);
    const open = routes.filter((route) => route.auth !== 'api_key' && route.auth !== 'admin');
    assert.deepEqual(open.filter((route) => !route.path.startsWith('/demo/')), []);
  });

  describeRouteSecurity({ server: () => server, routes: () => routes, adminToken: TEST_ADMIN_TOKEN, kinds: ['api_key', 'admin'] });

  describe('tenant isolation', () => {
    let a: { customerId: string; apiKey: string };
    let b: { customerId: string; apiKey: string };
    let aEvents: string[];
    let aSubscription: Record<string, any>;
    before(async () => {
      a = await server.createCustomer({ name: 'A' });
      b = await server.createCustomer({ name: 'B' });
      aEvents = (await postEvents(server, a.apiKey, [{ event_type: 'a.secret', n: 1 }, { event_type: 'a.secret', n: 2 }, { event_type: 'a.secret', n: 3 }])).map((e) => e.event_id);
      await postEvents(server, b.apiKey, [{ event_type: 'b.own' }]);
      aSubscription = await createSubscription(server, a.apiKey, { description: 'A only' });
    });

    /** B's answer for A's id must equal B's answer for an id that exists nowhere. */
    async function assertLikeUnknown(method: string, pathFor: (id: string) => string, ids: string[], json?: unknown): Promise<void> {
      const unknown = await server.request(method, pathFor(randomUUID()), { apiKey: b.apiKey, json });
      assertProblem(unknown, 404, 'not_found');
      for (const id of ids) {
        const response = await server.request(method, pathFor(id), { apiKey: b.apiKey, json });
        assert.equal(response.status, 404, response.text);
        assert.deepEqual(response.body, unknown.body);
        assert.equal(response.text.includes(a.customerId), false);
      }
    }

    it("B cannot read A's events: 404 exactly like a random id", async () => {
      await assertLikeUnknown('GET', (id) => `/api/v1/events/${id}`, aEvents);
    });

    it("B's inbox never shows A's events, whatever the filters or cursor", async () => {
      const all = (await server.request('GET', '/api/v1/inbox?limit=1000', { apiKey: b.apiKey })).body;
      assert.equal(all.events.length, 1);
      assert.ok(all.events.every((e: { customer_id: string }) => e.customer_id === b.customerId));
      assert.deepEqual((await server.request('GET', '/api/v1/inbox?event_type=a.secret', { apiKey: b.apiKey })).body.events, []);
      // A cursor from A's inbox gives B nothing of A's.
      const aPage = (await server.request('GET', '/api/v1/inbox?limit=1', { apiKey: a.apiKey })).body;
      assert.ok(aPage.cursor);
      const withACursor = await server.request('GET', `/api/v1/inbox?cursor=${encodeURIComponent(aPage.cursor)}`, { apiKey: b.apiKey });
      assert.ok(withACursor.status === 200 || withACursor.status === 400);
      if (withACursor.status === 200) {
        assert.ok(withACursor.body.events.every((e: { event_id: string }) => !aEvents.includes(e.event_id)));
      }
    });

    it("B cannot read, change, rotate or delete A's subscription, and learns nothing from trying", async () => {
      await assertLikeUnknown('GET', (id) => `/api/v1/subscriptions/${id}`, [aSubscription.workflow_id]);
      await assertLikeUnknown('PATCH', (id) => `/api/v1/subscriptions/${id}`, [aSubscription.workflow_id], { status: 'disabled', webhook_url: 'https://evil.example.com/' });
      await assertLikeUnknown('POST', (id) => `/api/v1/subscriptions/${id}/rotate-secret`, [aSubscription.workflow_id]);
      await assertLikeUnknown('DELETE', (id) => `/api/v1/subscriptions/${id}`, [aSubscription.workflow_id]);

      const list = (await server.request('GET', '/api/v1/subscriptions', { apiKey: b.apiKey })).body;
      assert.deepEqual(list.subscriptions, []);

      // A's subscription is exactly as it was, secret included.
      const { secret, ...asCreated } = aSubscription;
      assert.deepEqual((await server.request('GET', `/api/v1/subscriptions/${aSubscription.workflow_id}`, { apiKey: a.apiKey })).body, asCreated);
      const row = await server.server.ctx.backends.metadataStore.getSubscription(a.customerId, aSubscription.workflow_id);
      assert.equal(row?.secret, secret);
      assert.equal(row?.previousSecret, null);
    });

    it('a subscription made by the admin for A is visible to A only', async () => {
      const made = await server.request('POST', '/admin/test-subscription', {
        admin: true,
        json: { customer_id: a.customerId, event_selector: { type: 'event_type', value: 'never.sent' }, webhook_url: 'https://hooks.example.com/a' },
      });
      assert.equal(made.status, 201);
      assert.equal((await server.request('GET', `/api/v1/subscriptions/${made.body.workflow_id}`, { apiKey: a.apiKey })).status, 200);
      assertProblem(await server.request('GET', `/api/v1/subscriptions/${made.body.workflow_id}`, { apiKey: b.apiKey }), 404, 'not_found');
    });
  });

  describe('OpenAPI', () => {
    let document: any;
    before(async () => {
      const response = await server.request('GET', '/openapi.json');
      assert.equal(response.status, 200);
      document = response.body;
    });

    it('describes every route of the service, its auth and every error it can answer', () => {
      for (const route of routes) {
        const openApiPath = route.path.replace(/:([A-Za-z_]+)/g, '{$1}');
        const operation = document.paths[openApiPath]?.[route.method];
        assert.ok(operation, `${route.method.toUpperCase()} ${openApiPath} is missing`);
        assert.equal(operation.operationId, route.operationId);
        const security = route.auth === 'none' ? [] : [{ [route.auth === 'admin' ? 'adminToken' : 'apiKey']: [] }];
        assert.deepEqual(operation.security, security);
        for (const status of Object.keys(route.responses)) assert.ok(operation.responses[status], `${openApiPath} ${status}`);
        for (const code of route.errors) assert.ok(operation.responses[String(ERROR_CODES[code].status)], `${openApiPath} ${code}`);
        if (route.auth !== 'none') assert.ok(operation.responses['401'], `${openApiPath} documents 401`);
        for (const name of route.path.match(/:([A-Za-z_]+)/g) ?? []) {
          assert.ok(operation.parameters.some((p: { in: string; name: string }) => p.in === 'path' && p.name === name.slice(1)), `${openApiPath} ${name}`);
        }
      }
    });

    it('documents the inbox query and the subscription body from the validating schemas', () => {
      const inbox = document.paths['/api/v1/inbox'].get;
      assert.deepEqual(inbox.parameters.map((p: { name: string }) => p.name).sort(), ['cursor', 'end_time', 'event_type', 'limit', 'start_time', 'status']);
      const limit = inbox.parameters.find((p: { name: string }) => p.name === 'limit');
      assert.equal(limit.schema.minimum, 1);
      assert.equal(limit.schema.maximum, 1000);
      assert.equal(limit.schema.default, 100);
      const body = document.paths['/api/v1/subscriptions'].post.requestBody.content['application/json'].schema;
      assert.deepEqual(body.required.sort(), ['event_selector', 'webhook_url']);
      assert.ok(body.properties.batch);
      const created = document.paths['/api/v1/subscriptions'].post.responses['201'].content['application/json'].schema;
      assert.ok(created.properties.secret);
      const read = document.paths['/api/v1/subscriptions/{workflow_id}'].get.responses['200'].content['application/json'].schema;
      assert.equal(read.properties.secret, undefined);
    });

    it('has no $ref that an OpenAPI document cannot resolve', () => {
      const refs = [...JSON.stringify(document).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]);
      for (const ref of refs) {
        assert.ok(ref.startsWith('#/components/'), `unresolvable $ref ${ref}`);
        const target = ref.slice(2).split('/').reduce((node: any, key) => node?.[key], document);
        assert.ok(target, `dangling $ref ${ref}`);
      }
    });
  });
});
