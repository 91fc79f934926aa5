import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestServer, type TestServer } from '@triggers/all-in-one/test-server';
import { KUBERNETES, POSTGRES, REDIS, engineAddresses, kubectl, kubectlOk, prepareBackends, requireEngine, startWebhookReceiver, type PreparedBackends, type ReceivedRequest, type WebhookReceiver } from '@triggers/testkit';
import {
  settleChildProcesses,
  applyOk,
  apply,
  condition,
  createNamespace,
  deleteNamespace,
  getSubscription,
  installCrd,
  isReadyNow,
  newWebhookSecret,
  secretManifest,
  startTestController,
  subscriptionManifest,
  verifyWebhook,
  waitForSubscription,
  waitUntilTrue,
  type TestController,
} from './e2e-harness.testing.ts';

/**
 * The operator end to end: a real kube-apiserver (TRIGGERS_TEST_KUBECONFIG) with the CRD, the
 * controller in this process, and a running Triggers (the all-in-one) whose metadata store is
 * PostgreSQL (TRIGGERS_TEST_POSTGRES_URL), shared by the controller. Events go in through the
 * public API and out to a local webhook receiver.
 */
describe('Subscription operator end to end (kube-apiserver + PostgreSQL)', function () {
  this.timeout(90_000);
  const kube = requireEngine(KUBERNETES);
  requireEngine(POSTGRES);
  // PostgreSQL metadata needs the shared cache (config.ts refuses the memory cache with it).
  requireEngine(REDIS);

  let kubeconfig: string;
  let namespace: string;
  let backends: PreparedBackends;
  let server: TestServer;
  let receiver: WebhookReceiver;
  let customerId: string;
  let apiKey: string;
  let controller: TestController | undefined;
  const secretValue = newWebhookSecret();

  before(async function () {
    kubeconfig = kube.address;
    backends = await prepareBackends({ eventStore: 'sqlite', metadataStore: 'postgres', queue: 'sqlite', cache: 'redis' }, engineAddresses(), 'operator');
    server = await startTestServer(backends.env);
    ({ customerId, apiKey } = await server.createCustomer());
    receiver = await startWebhookReceiver({ otherwise: (request) => ({ status: request.path.startsWith('/gone') ? 410 : 200 }) });
    await installCrd(kubeconfig);
    namespace = await createNamespace(kubeconfig, 'operator-e2e');
    await applyOk(kubeconfig, secretManifest(namespace, 'hook-secret', secretValue));
    controller = await startTestController({ kubeconfig, namespace, env: backends.env, identity: 'replica-a' });
  });

  after(async function () {
    await controller?.stop();
    if (namespace) await deleteNamespace(kubeconfig, namespace);
    await receiver?.close();
    await server?.close();
    await backends?.cleanup();
    await settleChildProcesses();
  });

  const spec = (eventType: string, extra: Record<string, unknown> = {}) => ({
    customerId,
    selector: { type: 'event_type', value: eventType },
    webhookUrl: receiver.url(`/hook/${eventType}`),
    signingSecretRef: { name: 'hook-secret', key: 'secret' },
    ...extra,
  });
  const listed = async () => (await server.request('GET', '/api/v1/subscriptions?limit=1000', { apiKey })).body.subscriptions as { workflow_id: string; event_selector: unknown; status: string }[];
  const postEvent = async (payload: Record<string, unknown>): Promise<string> => {
    const response = await server.request('POST', '/api/v1/events', { apiKey, json: { payload } });
    assert.equal(response.status, 202, response.text);
    return response.body.event_id;
  };
  const deliveryOf = async (eventId: string): Promise<ReceivedRequest> => {
    let found: ReceivedRequest | undefined;
    await waitUntilTrue(async () => !!(found = receiver.requests.find((r) => r.body.includes(eventId))), `the webhook for event ${eventId}`);
    return found!;
  };

  it('a Subscription appears in GET /api/v1/subscriptions, reports Ready=True with observedGeneration, and its events are delivered signed with the Secret', async () => {
    const eventType = `order.${randomUUID().slice(0, 8)}`;
    await applyOk(kubeconfig, subscriptionManifest(namespace, 'orders', spec(eventType, { description: 'From a CR', batching: { maxEvents: 1, windowMs: 10 } })));
    const resource = await waitForSubscription(kubeconfig, namespace, 'orders', isReadyNow, 'Ready=True');
    assert.equal(resource!.status?.observedGeneration, 1);
    assert.equal(condition(resource, 'Ready')?.observedGeneration, 1);
    assert.deepEqual([condition(resource, 'Ready')?.reason, condition(resource, 'Synced')?.status, condition(resource, 'Synced')?.reason], ['Active', 'True', 'Synced']);
    assert.equal(resource!.status?.subscriptionId, resource!.metadata.uid);
    assert.ok(resource!.metadata.finalizers?.includes('triggers.dev/subscription'));

    const subscription = (await listed()).find((s) => s.workflow_id === resource!.status?.subscriptionId);
    assert.ok(subscription, 'listed by the REST API');
    assert.deepEqual(subscription.event_selector, { type: 'event_type', value: eventType });

    const eventId = await postEvent({ event_type: eventType, n: 1 });
    const delivery = await deliveryOf(eventId);
    assert.equal(delivery.path, `/hook/${eventType}`);
    verifyWebhook(delivery, secretValue);
    assert.throws(() => verifyWebhook(delivery, newWebhookSecret()), 'another secret does not verify');

    const printed = await kubectlOk(kubeconfig, ['get', '-n', namespace, 'subscriptions.triggers.dev', 'orders']);
    assert.match(printed, /NAME\s+READY\s+URL\s+AGE/);
    assert.match(printed, /orders\s+True\s+http:\/\/127\.0\.0\.1/);
  });

  it('an edit is reflected: new generation observed, the store changed, events of the new type delivered', async () => {
    const eventType = `invoice.${randomUUID().slice(0, 8)}`;
    await kubectlOk(kubeconfig, ['patch', '-n', namespace, 'subscriptions.triggers.dev', 'orders', '--type=merge', '-p', JSON.stringify({ spec: { selector: { type: 'event_type', value: eventType }, description: 'Edited' } })]);
    const resource = await waitForSubscription(kubeconfig, namespace, 'orders', (r) => isReadyNow(r) && r!.metadata.generation === 2, 'generation 2 observed');
    const subscription = (await listed()).find((s) => s.workflow_id === resource!.status?.subscriptionId);
    assert.deepEqual(subscription?.event_selector, { type: 'event_type', value: eventType });
    const eventId = await postEvent({ event_type: eventType });
    const delivery = await deliveryOf(eventId);
    verifyWebhook(delivery, secretValue);
  });

  it('the REST API answers 409 subscription_managed_by_resource, naming the resource, to PATCH, DELETE and rotate-secret', async () => {
    const resource = await getSubscription(kubeconfig, namespace, 'orders');
    const id = resource!.status!.subscriptionId!;
    for (const [method, path, json] of [
      ['PATCH', `/api/v1/subscriptions/${id}`, { status: 'disabled' }],
      ['DELETE', `/api/v1/subscriptions/${id}`, undefined],
      ['POST', `/api/v1/subscriptions/${id}/rotate-secret`, undefined],
    ] as const) {
      const response = await server.request(method, path, { apiKey, json });
      assert.equal(response.status, 409, `${method} ${path}: ${response.text}`);
      assert.equal(response.body.code, 'subscription_managed_by_resource');
      assert.match(response.body.detail, new RegExp(`Subscription ${namespace}/orders`));
    }
    assert.equal((await listed()).find((s) => s.workflow_id === id)?.status, 'active', 'unchanged');
  });

  it("refuses invalid resources in the API server's schema and CEL rules", async () => {
    const base = spec('refused.type');
    // The API server lists several errors in no fixed order: each case names every message it expects.
    const cases: [string, Record<string, unknown>, ...RegExp[]][] = [
      ['no customer', { ...base, customerId: undefined }, /spec\.customerId: Required value/],
      ['customer not a UUID', { ...base, customerId: 'acme' }, /spec\.customerId/],
      ['not an http(s) URL', { ...base, webhookUrl: 'ftp://example.com/hook' }, /spec\.webhookUrl/],
      ['unknown selector type', { ...base, selector: { type: 'regex', value: 'x' } }, /spec\.selector\.type: Unsupported value/],
      ['CEL: an event_type selector with an expression', { ...base, selector: { type: 'event_type', value: 'a', expression: '$.a' } }, /an event_type selector has value and nothing else/],
      ['CEL: a nested custom selector without its function', { ...base, selector: { type: 'any', selectors: [{ type: 'custom', value: 'x' }] } }, /a custom selector has function and nothing else/],
      ['unknown operator', { ...base, selector: { type: 'custom', function: { field: 'a', operator: 'bigger', value: 1 } } }, /operator: Unsupported value/],
      ['batching beyond the API limits', { ...base, batching: { maxEvents: 1001, windowMs: 0 } }, /maxEvents.*less than or equal to 1000/, /windowMs.*greater than or equal to 1/],
      ['Secret reference without a key', { ...base, signingSecretRef: { name: 'hook-secret' } }, /signingSecretRef\.key: Required value/],
    ];
    for (const [what, body, ...messages] of cases) {
      const result = await apply(kubeconfig, subscriptionManifest(namespace, 'refused', JSON.parse(JSON.stringify(body))));
      assert.notEqual(result.code, 0, `${what}: accepted`);
      for (const message of messages) assert.match(result.stderr, message, what);
    }
    assert.equal(await getSubscription(kubeconfig, namespace, 'refused'), null);

    // CEL transition rule: the owning customer cannot change.
    await applyOk(kubeconfig, subscriptionManifest(namespace, 'immutable', spec('immutable.type')));
    const immutable = await kubectl(kubeconfig, ['patch', '-n', namespace, 'subscriptions.triggers.dev', 'immutable', '--type=merge', '-p', JSON.stringify({ spec: { customerId: randomUUID() } })]);
    assert.notEqual(immutable.code, 0);
    assert.match(immutable.stderr, /customerId is immutable/);
  });

  it('what only the REST API code can judge (JSONPath syntax) shows as Ready=False InvalidSelector with an Event, and nothing is stored', async () => {
    await applyOk(kubeconfig, subscriptionManifest(namespace, 'bad-jsonpath', { ...spec('x'), selector: { type: 'jsonpath', expression: '$.amount >' } }));
    const resource = await waitForSubscription(kubeconfig, namespace, 'bad-jsonpath', (r) => condition(r, 'Ready')?.reason === 'InvalidSelector', 'InvalidSelector');
    assert.equal(condition(resource, 'Ready')?.status, 'False');
    assert.match(condition(resource, 'Synced')?.message ?? '', /^spec\.selector: /);
    assert.equal((await listed()).some((s) => s.workflow_id === resource!.metadata.uid), false);
    await waitUntilTrue(async () => {
      const events = await kubectlOk(kubeconfig, ['get', 'events.events.k8s.io', '-n', namespace, '-o', 'json']);
      return (JSON.parse(events).items as { reason: string; type: string; regarding: { name: string } }[]).some((e) => e.regarding.name === 'bad-jsonpath' && e.reason === 'InvalidSelector' && e.type === 'Warning');
    }, 'a Warning Event with reason InvalidSelector');
    // Resyncs (every second here) of the unchanged, still invalid resource add no further Events.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const events = JSON.parse(await kubectlOk(kubeconfig, ['get', 'events.events.k8s.io', '-n', namespace, '-o', 'json'])).items as { reason: string; regarding: { name: string } }[];
    assert.equal(events.filter((e) => e.regarding.name === 'bad-jsonpath').length, 1);
  });

  it('a missing customer is Ready=False CustomerNotFound and is retried until the customer exists', async () => {
    const missing = randomUUID();
    await applyOk(kubeconfig, subscriptionManifest(namespace, 'early', { ...spec('early.type'), customerId: missing }));
    await waitForSubscription(kubeconfig, namespace, 'early', (r) => condition(r, 'Ready')?.reason === 'CustomerNotFound' && condition(r, 'Ready')?.status === 'False', 'CustomerNotFound');
    await server.server.ctx.backends.metadataStore.createCustomer({ customerId: missing, name: 'Late', email: 'late@example.test', status: 'active', rateLimitPerSecond: null, isTest: true, createdAt: Date.now() });
    const resource = await waitForSubscription(kubeconfig, namespace, 'early', isReadyNow, 'Ready=True once the customer exists');
    assert.ok(await server.server.ctx.backends.metadataStore.getSubscription(missing, resource!.metadata.uid));
  });

  it('a new value in the referenced Secret rotates the signing secret; the previous one keeps signing too', async () => {
    const eventType = `rotate.${randomUUID().slice(0, 8)}`;
    await applyOk(kubeconfig, secretManifest(namespace, 'rotating', secretValue));
    await applyOk(kubeconfig, subscriptionManifest(namespace, 'rotating', { ...spec(eventType), signingSecretRef: { name: 'rotating', key: 'secret' } }));
    const resource = await waitForSubscription(kubeconfig, namespace, 'rotating', isReadyNow, 'Ready=True');
    const rotated = newWebhookSecret();
    await applyOk(kubeconfig, secretManifest(namespace, 'rotating', rotated));
    const store = server.server.ctx.backends.metadataStore;
    await waitUntilTrue(async () => (await store.getSubscription(customerId, resource!.metadata.uid))?.secret === rotated, 'the store to hold the new secret');
    const stored = await store.getSubscription(customerId, resource!.metadata.uid);
    assert.equal(stored?.previousSecret, secretValue);
    const overlapMs = stored!.previousSecretExpiresAt! - stored!.updatedAt;
    assert.equal(overlapMs, 24 * 3600_000, 'the same overlap as rotate-secret');

    const delivery = await deliveryOf(await postEvent({ event_type: eventType }));
    verifyWebhook(delivery, rotated);
    verifyWebhook(delivery, secretValue);
    assert.equal(String(delivery.headers['webhook-signature']).split(' ').length, 2, 'both signatures in the header');
  });

  it('a 410 Gone from the receiver disables the subscription and the resource says so', async () => {
    const eventType = `gone.${randomUUID().slice(0, 8)}`;
    await applyOk(kubeconfig, subscriptionManifest(namespace, 'gone', { ...spec(eventType), webhookUrl: receiver.url(`/gone/${eventType}`) }));
    await waitForSubscription(kubeconfig, namespace, 'gone', isReadyNow, 'Ready=True');
    await deliveryOf(await postEvent({ event_type: eventType }));
    const resource = await waitForSubscription(kubeconfig, namespace, 'gone', (r) => condition(r, 'Ready')?.reason === 'WebhookGone', 'Ready=False WebhookGone after the resync');
    assert.equal(condition(resource, 'Ready')?.status, 'False');
    assert.match(resource!.status?.disabledReason ?? '', /410 Gone/);
    assert.equal(resource!.status?.lastDelivery?.outcome, 'Gone');
    assert.equal(condition(resource, 'Synced')?.status, 'True');
    assert.equal((await listed()).find((s) => s.workflow_id === resource!.metadata.uid)?.status, 'disabled');
    // It stays disabled on later resyncs (the gone receiver is not called again)...
    const calls = receiver.requests.filter((r) => r.path === `/gone/${eventType}`).length;
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal(condition(await getSubscription(kubeconfig, namespace, 'gone'), 'Ready')?.reason, 'WebhookGone');
    assert.equal(receiver.requests.filter((r) => r.path === `/gone/${eventType}`).length, calls);
    // ...until the resource points somewhere else.
    await kubectlOk(kubeconfig, ['patch', '-n', namespace, 'subscriptions.triggers.dev', 'gone', '--type=merge', '-p', JSON.stringify({ spec: { webhookUrl: receiver.url(`/hook/${eventType}`) } })]);
    const back = await waitForSubscription(kubeconfig, namespace, 'gone', isReadyNow, 'Ready=True again');
    assert.equal(back!.status?.disabledReason, undefined);
  });

  it('deleting the resource deletes its subscription first (finalizer), then the resource goes', async () => {
    await applyOk(kubeconfig, subscriptionManifest(namespace, 'short-lived', spec('short.type')));
    const resource = await waitForSubscription(kubeconfig, namespace, 'short-lived', isReadyNow, 'Ready=True');
    const id = resource!.metadata.uid;
    assert.ok((await listed()).some((s) => s.workflow_id === id));
    await kubectlOk(kubeconfig, ['delete', '-n', namespace, 'subscriptions.triggers.dev', 'short-lived', '--wait=false']);
    await waitForSubscription(kubeconfig, namespace, 'short-lived', (r) => r === null, 'the resource to be gone');
    assert.equal((await listed()).some((s) => s.workflow_id === id), false);
    assert.equal((await server.request('GET', `/api/v1/subscriptions/${id}`, { apiKey })).status, 404);
  });

  it('a controller restarted mid-way converges what changed while it was down (level-triggered)', async () => {
    await applyOk(kubeconfig, subscriptionManifest(namespace, 'to-edit', spec('before.edit')), subscriptionManifest(namespace, 'to-delete', spec('to.delete')));
    const toEdit = await waitForSubscription(kubeconfig, namespace, 'to-edit', isReadyNow, 'Ready=True');
    const toDelete = await waitForSubscription(kubeconfig, namespace, 'to-delete', isReadyNow, 'Ready=True');
    await controller!.stop();

    await applyOk(kubeconfig, subscriptionManifest(namespace, 'while-down', spec('while.down')));
    await kubectlOk(kubeconfig, ['patch', '-n', namespace, 'subscriptions.triggers.dev', 'to-edit', '--type=merge', '-p', JSON.stringify({ spec: { selector: { type: 'event_type', value: 'after.edit' } } })]);
    await kubectlOk(kubeconfig, ['delete', '-n', namespace, 'subscriptions.triggers.dev', 'to-delete', '--wait=false']);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.ok((await getSubscription(kubeconfig, namespace, 'to-delete'))?.metadata.deletionTimestamp, 'held by the finalizer while no controller runs');

    controller = await startTestController({ kubeconfig, namespace, env: backends.env, identity: 'replica-a-restarted' });
    const whileDown = await waitForSubscription(kubeconfig, namespace, 'while-down', isReadyNow, 'created while down: Ready');
    const edited = await waitForSubscription(kubeconfig, namespace, 'to-edit', (r) => isReadyNow(r) && r!.metadata.generation === 2, 'edited while down: generation 2');
    await waitForSubscription(kubeconfig, namespace, 'to-delete', (r) => r === null, 'deleted while down: gone');
    const subscriptions = await listed();
    assert.ok(subscriptions.some((s) => s.workflow_id === whileDown!.metadata.uid));
    assert.deepEqual(subscriptions.find((s) => s.workflow_id === toEdit!.metadata.uid)?.event_selector, { type: 'event_type', value: 'after.edit' });
    assert.equal(edited!.metadata.uid, toEdit!.metadata.uid);
    assert.equal(subscriptions.some((s) => s.workflow_id === toDelete!.metadata.uid), false);
  });

  it('with two replicas only the Lease holder writes; the other takes over when the holder stops', async () => {
    const second = await startTestController({ kubeconfig, namespace, env: backends.env, identity: 'replica-b' });
    try {
      await waitUntilTrue(async () => second.controller.hasSynced, 'replica b synced');
      assert.equal(controller!.controller.isLeader, true, 'the running replica keeps the Lease');
      const writesBefore = { ...second.kube.writes };
      await applyOk(kubeconfig, subscriptionManifest(namespace, 'two-replicas', spec('two.replicas')));
      await waitForSubscription(kubeconfig, namespace, 'two-replicas', isReadyNow, 'Ready=True (by the leader)');
      await new Promise((resolve) => setTimeout(resolve, 1500)); // a resync or two
      assert.equal(second.controller.isLeader, false);
      assert.deepEqual(second.kube.writes, writesBefore, 'the follower wrote nothing to the API server');
      assert.deepEqual(await second.reconciles(), {}, 'the follower reconciled nothing (so wrote nothing to the store)');
      const lease = JSON.parse(await kubectlOk(kubeconfig, ['get', 'lease', '-n', namespace, 'triggers-controller', '-o', 'json']));
      assert.equal(lease.spec.holderIdentity, controller!.identity);

      await controller!.stop(); // releases the Lease
      controller = undefined;
      await waitUntilTrue(async () => second.controller.isLeader, 'replica b to lead', 10_000);
      await applyOk(kubeconfig, subscriptionManifest(namespace, 'after-takeover', spec('after.takeover')));
      await waitForSubscription(kubeconfig, namespace, 'after-takeover', isReadyNow, 'Ready=True (by the new leader)');
      assert.ok(((await second.reconciles()).synced ?? 0) > 0);
      assert.equal(JSON.parse(await kubectlOk(kubeconfig, ['get', 'lease', '-n', namespace, 'triggers-controller', '-o', 'json'])).spec.holderIdentity, 'replica-b');
    } finally {
      controller ??= second;
      if (controller !== second) await second.stop();
    }
  });
});
