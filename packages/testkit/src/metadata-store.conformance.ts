import assert from 'node:assert/strict';
import type { ApiKeyRecord, Customer, Subscription } from '@triggers/core/domain';
import type { MetadataStore } from '@triggers/core/ports';
import { encodeCursor } from '@triggers/core/testing';
import { assertInvalidRequest, uniqueId } from './helpers.ts';

function newCustomer(overrides: Partial<Customer> = {}): Customer {
  const customerId = uniqueId();
  return {
    customerId,
    name: `Customer ${customerId.slice(0, 8)}`,
    email: `${customerId.slice(0, 8)}@example.com`,
    status: 'active',
    rateLimitPerSecond: null,
    isTest: false,
    createdAt: Date.now(),
    ...overrides,
  };
}

function newApiKey(customerId: string, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  const hash = (uniqueId() + uniqueId()).replace(/-/g, '').slice(0, 64);
  return { keyId: uniqueId(), customerId, keyHash: hash, prefix: 'sk_test_ab12', createdAt: Date.now(), revokedAt: null, expiresAt: null, ...overrides };
}

function newSubscription(customerId: string, overrides: Partial<Subscription> = {}): Subscription {
  const now = Date.now();
  return {
    workflowId: uniqueId(),
    customerId,
    eventSelector: { type: 'all', selectors: [{ type: 'event_type', value: 'order.*' }, { type: 'custom', function: { field: 'customer.tier', operator: 'greater_than', value: 100 } }] },
    webhookUrl: 'https://hooks.example.com/in',
    description: null,
    status: 'active',
    disabledReason: null,
    secret: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=',
    previousSecret: null,
    previousSecretExpiresAt: null,
    batching: null,
    retryPolicy: null,
    timeoutMs: null,
    ordering: 'unordered',
    createdAt: now,
    updatedAt: now,
    managedBy: null,
    ...overrides,
  };
}

/**
 * The MetadataStore contract (ports/metadata-store.ts). `makeStore` is called once; the store may
 * be shared: every test creates its own customers.
 */
export function metadataStoreConformance(makeStore: () => Promise<MetadataStore>): void {
  describe('MetadataStore conformance', function () {
    let store: MetadataStore;

    before(async function () {
      store = await makeStore();
    });

    after(async function () {
      await store?.close();
    });

    describe('customers', function () {
      it('creates and reads a customer with every field', async function () {
        const customer = newCustomer({ rateLimitPerSecond: 250, isTest: true, status: 'disabled' });
        await store.createCustomer(customer);
        assert.deepEqual(await store.getCustomer(customer.customerId), customer);
        assert.equal(await store.getCustomer(uniqueId()), null);
      });

      it('patches only the given fields, including back to a null rate limit', async function () {
        const customer = newCustomer({ rateLimitPerSecond: 10 });
        await store.createCustomer(customer);
        const raised = await store.updateCustomer(customer.customerId, { rateLimitPerSecond: 5000, status: 'disabled' });
        assert.deepEqual(raised, { ...customer, rateLimitPerSecond: 5000, status: 'disabled' });
        const reset = await store.updateCustomer(customer.customerId, { rateLimitPerSecond: null, name: 'Renamed' });
        assert.deepEqual(reset, { ...customer, rateLimitPerSecond: null, status: 'disabled', name: 'Renamed' });
        assert.deepEqual(await store.getCustomer(customer.customerId), reset);
      });

      it('returns null when patching an unknown customer', async function () {
        assert.equal(await store.updateCustomer(uniqueId(), { name: 'nobody' }), null);
      });
    });

    describe('API keys', function () {
      it('finds a key by its hash together with its customer', async function () {
        const customer = newCustomer();
        await store.createCustomer(customer);
        const key = newApiKey(customer.customerId, { expiresAt: Date.now() + 3600_000 });
        await store.createApiKey(key);
        assert.deepEqual(await store.findApiKeyByHash(key.keyHash), { key, customer });
        assert.equal(await store.findApiKeyByHash('0'.repeat(64)), null);
      });

      it('revokes a key once, and still finds it (with revokedAt) so callers can decide', async function () {
        const customer = newCustomer();
        await store.createCustomer(customer);
        const key = newApiKey(customer.customerId);
        await store.createApiKey(key);
        const revokedAt = Date.now();
        assert.equal(await store.revokeApiKey(key.keyId, revokedAt), true);
        assert.equal(await store.revokeApiKey(key.keyId, revokedAt + 1), false, 'already revoked');
        assert.equal(await store.revokeApiKey(uniqueId(), revokedAt), false, 'unknown key');
        assert.deepEqual((await store.findApiKeyByHash(key.keyHash))?.key, { ...key, revokedAt });
      });

      it('returns expired keys too', async function () {
        const customer = newCustomer();
        await store.createCustomer(customer);
        const key = newApiKey(customer.customerId, { expiresAt: Date.now() - 1000 });
        await store.createApiKey(key);
        assert.deepEqual((await store.findApiKeyByHash(key.keyHash))?.key, key);
      });

      it('keeps several keys per customer apart', async function () {
        const customer = newCustomer();
        await store.createCustomer(customer);
        const one = newApiKey(customer.customerId);
        const two = newApiKey(customer.customerId);
        await store.createApiKey(one);
        await store.createApiKey(two);
        await store.revokeApiKey(one.keyId, Date.now());
        assert.equal((await store.findApiKeyByHash(two.keyHash))?.key.revokedAt, null);
      });

      it('refuses a second key with the same hash', async function () {
        const customer = newCustomer();
        await store.createCustomer(customer);
        const key = newApiKey(customer.customerId);
        await store.createApiKey(key);
        await assert.rejects(store.createApiKey({ ...key, keyId: uniqueId() }));
      });
    });

    describe('subscriptions', function () {
      it('creates and reads a subscription with every field', async function () {
        const customerId = uniqueId();
        const subscription = newSubscription(customerId, {
          description: 'Orders to the warehouse',
          batching: { maxEvents: 50, windowMs: 2000 },
          retryPolicy: { maxAttempts: 3, scheduleMs: [1000, 60_000], maxDelayMs: 3_600_000 },
          timeoutMs: 5000,
          ordering: 'fifo',
          previousSecret: 'whsec_b2xkLW9sZC1vbGQ=',
          previousSecretExpiresAt: Date.now() + 86_400_000,
          managedBy: 'triggers.dev/v1alpha1/Subscription/shop/orders',
        });
        await store.createSubscription(subscription);
        assert.deepEqual(await store.getSubscription(customerId, subscription.workflowId), subscription);
      });

      it('reads managedBy as null for a subscription created without an owner', async function () {
        const customerId = uniqueId();
        const { managedBy: _, ...unowned } = newSubscription(customerId);
        await store.createSubscription(unowned);
        const read = await store.getSubscription(customerId, unowned.workflowId);
        assert.equal(read?.managedBy, null);
        assert.equal((await store.listSubscriptions(customerId, { limit: 10 })).subscriptions[0].managedBy, null);
      });

      it('keeps the owner through every other change (a patch cannot set or clear it)', async function () {
        const customerId = uniqueId();
        const owner = 'triggers.dev/v1alpha1/Subscription/shop/keep';
        const subscription = newSubscription(customerId, { managedBy: owner });
        await store.createSubscription(subscription);
        const updated = await store.updateSubscription(customerId, subscription.workflowId, { status: 'disabled', disabledReason: 'gone', updatedAt: Date.now() });
        assert.equal(updated?.managedBy, owner);
        assert.equal((await store.listActiveSubscriptions(customerId)).length, 0);
        assert.equal((await store.getSubscription(customerId, subscription.workflowId))?.managedBy, owner);
      });

      it("hides another customer's subscription from every read and write", async function () {
        const owner = uniqueId();
        const stranger = uniqueId();
        const subscription = newSubscription(owner);
        await store.createSubscription(subscription);

        assert.equal(await store.getSubscription(stranger, subscription.workflowId), null);
        assert.equal(await store.updateSubscription(stranger, subscription.workflowId, { status: 'disabled', updatedAt: Date.now() }), null);
        assert.equal(await store.deleteSubscription(stranger, subscription.workflowId), false);
        assert.deepEqual((await store.listSubscriptions(stranger, { limit: 100 })).subscriptions, []);
        assert.deepEqual(await store.listActiveSubscriptions(stranger), []);
        assert.deepEqual(await store.getSubscription(owner, subscription.workflowId), subscription, 'unchanged');
      });

      it('patches only the given fields', async function () {
        const customerId = uniqueId();
        const subscription = newSubscription(customerId, { description: 'before' });
        await store.createSubscription(subscription);
        const updatedAt = subscription.updatedAt + 5000;
        const patch = {
          eventSelector: { type: 'jsonpath', expression: "$.amount > 100" },
          status: 'disabled',
          disabledReason: 'Endpoint answered 410 Gone',
          description: null,
          batching: { maxEvents: 10, windowMs: 500 },
          retryPolicy: { maxAttempts: 7, baseMs: 250 },
          timeoutMs: 60_000,
          ordering: 'fifo',
          updatedAt,
        } satisfies Partial<Subscription>;
        const patched = await store.updateSubscription(customerId, subscription.workflowId, patch);
        const expected: Subscription = { ...subscription, ...patch };
        assert.deepEqual(patched, expected);
        assert.deepEqual(await store.getSubscription(customerId, subscription.workflowId), expected);

        const rotation = { secret: 'whsec_bmV3LW5ldy1uZXc=', previousSecret: subscription.secret, previousSecretExpiresAt: updatedAt + 86_400_000, batching: null, retryPolicy: null, timeoutMs: null, updatedAt: updatedAt + 1 };
        const rotated = await store.updateSubscription(customerId, subscription.workflowId, rotation);
        assert.deepEqual(rotated, { ...expected, ...rotation });
      });

      it('returns null when patching an unknown subscription', async function () {
        assert.equal(await store.updateSubscription(uniqueId(), uniqueId(), { status: 'disabled', updatedAt: Date.now() }), null);
      });

      it('deletes a subscription once', async function () {
        const customerId = uniqueId();
        const subscription = newSubscription(customerId);
        await store.createSubscription(subscription);
        assert.equal(await store.deleteSubscription(customerId, subscription.workflowId), true);
        assert.equal(await store.getSubscription(customerId, subscription.workflowId), null);
        assert.equal(await store.deleteSubscription(customerId, subscription.workflowId), false);
      });

      it('lists newest first through cursors, each subscription exactly once', async function () {
        const customerId = uniqueId();
        const base = Date.now() - 100_000;
        // Several share a creation time: the order must still be total and stable.
        const subscriptions = Array.from({ length: 23 }, (_, i) => newSubscription(customerId, { createdAt: base + Math.floor(i / 3), updatedAt: base }));
        for (const subscription of subscriptions) await store.createSubscription(subscription);
        await store.createSubscription(newSubscription(uniqueId()));

        const seen: Subscription[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < 100; page++) {
          const result = await store.listSubscriptions(customerId, { limit: 4, cursor });
          assert.ok(result.subscriptions.length <= 4);
          seen.push(...result.subscriptions);
          if (result.nextCursor === null) break;
          cursor = result.nextCursor;
        }
        assert.equal(seen.length, subscriptions.length);
        assert.deepEqual(new Set(seen.map((s) => s.workflowId)), new Set(subscriptions.map((s) => s.workflowId)));
        for (let i = 1; i < seen.length; i++) assert.ok(seen[i - 1].createdAt >= seen[i].createdAt, 'newest first');

        const all = await store.listSubscriptions(customerId, { limit: 23 });
        assert.equal(all.subscriptions.length, 23);
        assert.equal(all.nextCursor, null, 'no cursor when nothing remains');
      });

      it('rejects a cursor it cannot decode with invalid_request', async function () {
        const customerId = uniqueId();
        await store.createSubscription(newSubscription(customerId));
        for (const cursor of ['%%%', Buffer.from('{').toString('base64url'), encodeCursor({ unexpected: 1 }), encodeCursor({ createdAt: 'yesterday', workflowId: 1 })]) {
          await assertInvalidRequest(store.listSubscriptions(customerId, { limit: 10, cursor }), `cursor ${JSON.stringify(cursor)}`);
        }
      });

      it("lists exactly the customer's active subscriptions for the matcher", async function () {
        const customerId = uniqueId();
        const active = [newSubscription(customerId), newSubscription(customerId)];
        const disabled = newSubscription(customerId, { status: 'disabled', disabledReason: 'by the customer' });
        const laterDisabled = newSubscription(customerId);
        for (const s of [...active, disabled, laterDisabled]) await store.createSubscription(s);
        await store.updateSubscription(customerId, laterDisabled.workflowId, { status: 'disabled', updatedAt: Date.now() });
        await store.createSubscription(newSubscription(uniqueId()));

        const listed = await store.listActiveSubscriptions(customerId);
        assert.deepEqual(new Set(listed.map((s) => s.workflowId)), new Set(active.map((s) => s.workflowId)));
        assert.deepEqual(listed.find((s) => s.workflowId === active[0].workflowId), active[0]);
      });

      it("grows the customer's subscriptions version with every create, update and delete, and only theirs", async function () {
        const customerId = uniqueId();
        const bystander = uniqueId();
        const versions = [await store.getSubscriptionsVersion(customerId)];
        const bystanderBefore = await store.getSubscriptionsVersion(bystander);
        const subscription = newSubscription(customerId);

        await store.createSubscription(subscription);
        versions.push(await store.getSubscriptionsVersion(customerId));
        await store.updateSubscription(customerId, subscription.workflowId, { description: 'changed', updatedAt: Date.now() });
        versions.push(await store.getSubscriptionsVersion(customerId));
        await store.deleteSubscription(customerId, subscription.workflowId);
        versions.push(await store.getSubscriptionsVersion(customerId));

        for (let i = 1; i < versions.length; i++) assert.ok(versions[i] > versions[i - 1], `version grows: ${versions.join(' → ')}`);
        assert.equal(await store.getSubscriptionsVersion(bystander), bystanderBefore);
      });
    });

    it('answers ping', async function () {
      await store.ping();
    });
  });
}
