import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestServer, type TestServer } from '@triggers/all-in-one/test-server';
import type { Subscription } from '@triggers/core/domain';
import { subscriptionRecord } from '@triggers/testkit';

/**
 * Subscriptions owned by a Kubernetes Subscription resource (the controller sets `managedBy`) are
 * read-only through the REST API: every change answers 409 subscription_managed_by_resource naming
 * the resource, and changes nothing. The controller's end-to-end test proves the same through a CR.
 */
describe('Subscriptions managed by a Kubernetes resource', () => {
  let server: TestServer;
  let apiKey: string;
  let customerId: string;
  let managed: Subscription;
  const OWNER = 'triggers.dev/v1alpha1/Subscription/shop/orders';

  before(async () => {
    server = await startTestServer();
    ({ apiKey, customerId } = await server.createCustomer());
    managed = subscriptionRecord({
      workflowId: randomUUID(),
      customerId,
      eventSelector: { type: 'event_type', value: 'order.*' },
      webhookUrl: 'https://hooks.example.com/orders',
      secret: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXM=',
      managedBy: OWNER,
    });
    await server.server.ctx.backends.metadataStore.createSubscription(managed);
  });
  after(async () => {
    await server?.close();
  });

  const stored = () => server.server.ctx.backends.metadataStore.getSubscription(customerId, managed.workflowId);

  function assertManagedConflict(response: { status: number; headers: Headers; body: { code?: string; detail?: string } }): void {
    assert.equal(response.status, 409);
    assert.match(response.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(response.body.code, 'subscription_managed_by_resource');
    assert.match(response.body.detail ?? '', /Subscription shop\/orders/);
  }

  it('reads and lists it like any other subscription', async () => {
    const read = await server.request('GET', `/api/v1/subscriptions/${managed.workflowId}`, { apiKey });
    assert.equal(read.status, 200);
    assert.equal(read.body.webhook_url, managed.webhookUrl);
    const list = await server.request('GET', '/api/v1/subscriptions', { apiKey });
    assert.deepEqual(list.body.subscriptions.map((s: { workflow_id: string }) => s.workflow_id), [managed.workflowId]);
  });

  it('PATCH answers 409 and changes nothing', async () => {
    const response = await server.request('PATCH', `/api/v1/subscriptions/${managed.workflowId}`, { apiKey, json: { status: 'disabled' } });
    assertManagedConflict(response);
    assert.deepEqual(await stored(), managed);
  });

  it('DELETE answers 409 and keeps it', async () => {
    assertManagedConflict(await server.request('DELETE', `/api/v1/subscriptions/${managed.workflowId}`, { apiKey }));
    assert.deepEqual(await stored(), managed);
  });

  it('rotate-secret answers 409 and keeps the secret', async () => {
    assertManagedConflict(await server.request('POST', `/api/v1/subscriptions/${managed.workflowId}/rotate-secret`, { apiKey }));
    assert.equal((await stored())?.secret, managed.secret);
  });

  it('still answers 404 to another customer (ownership does not leak ids)', async () => {
    const other = await server.createCustomer();
    const response = await server.request('DELETE', `/api/v1/subscriptions/${managed.workflowId}`, { apiKey: other.apiKey });
    assert.equal(response.status, 404);
  });

  it('lists the 409 in the OpenAPI document of the changing routes', async () => {
    const doc = (await server.request('GET', '/openapi.json')).body;
    for (const [path, method] of [['/api/v1/subscriptions/{workflow_id}', 'patch'], ['/api/v1/subscriptions/{workflow_id}', 'delete'], ['/api/v1/subscriptions/{workflow_id}/rotate-secret', 'post']]) {
      assert.ok(doc.paths[path]?.[method]?.responses?.['409'], `${method} ${path} documents 409`);
    }
  });
});
