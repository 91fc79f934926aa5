import assert from 'node:assert/strict';
import { type Subscription, PREVIOUS_SECRET_TTL_MS } from '@triggers/core/domain';
import { subscriptionRecord } from '@triggers/testkit';
import { desiredSubscription, type DesiredSubscription } from './desired-subscription.ts';
import { planSync, type SyncInput } from './plan-sync.ts';
import { buildStatus, statusChanged } from './status.ts';
import type { SubscriptionResource } from '../subscription-resource.ts';

const SECRET_A = 'whsec_' + Buffer.alloc(32, 1).toString('base64');
const SECRET_B = 'whsec_' + Buffer.alloc(32, 2).toString('base64');
const NOW = Date.parse('2026-12-02T08:00:00.000Z');
const customerId = '0190f3c2-7d1e-4b5a-9c3d-2e4f5a6b7c8d';
const uid = '6a1f3c2e-0000-4000-8000-000000000001';

const desired = (overrides: Partial<DesiredSubscription> = {}): DesiredSubscription => ({
  eventSelector: { type: 'event_type', value: 'order.*' },
  webhookUrl: 'https://hooks.example.com/orders',
  description: null,
  batching: null,
  retryPolicy: null,
  timeoutMs: null,
  ordering: 'unordered',
  enabled: true,
  ...overrides,
});

const stored = (overrides: Partial<Subscription> = {}): Subscription =>
  subscriptionRecord({
    workflowId: uid,
    customerId,
    eventSelector: { type: 'event_type', value: 'order.*' },
    webhookUrl: 'https://hooks.example.com/orders',
    secret: SECRET_A,
    createdAt: NOW - 60_000,
    updatedAt: NOW - 60_000,
    managedBy: 'triggers.dev/v1alpha1/Subscription/shop/orders',
    ...overrides,
  });

const plan = (input: Partial<SyncInput>) =>
  planSync({
    desired: desired(),
    existing: stored(),
    secretFromRef: SECRET_A,
    workflowId: uid,
    customerId,
    managedBy: 'triggers.dev/v1alpha1/Subscription/shop/orders',
    now: NOW,
    generateSecret: () => SECRET_B,
    ...input,
  });

describe('Reconcile decisions', () => {
  describe('desiredSubscription: the REST API checks on the spec', () => {
    const spec = { customerId, selector: { type: 'event_type', value: 'order.*' }, webhookUrl: 'https://hooks.example.com/orders' };
    it('normalises a valid spec (enabled by default, URL as the parser writes it)', () => {
      const result = desiredSubscription({ ...spec, webhookUrl: 'HTTPS://Hooks.Example.com/orders', batching: { maxEvents: 5, windowMs: 100 } }, { kind: 'none' });
      assert.deepEqual(result, { ok: true, desired: desired({ batching: { maxEvents: 5, windowMs: 100 } }) });
    });
    it('carries the retry policy and timeout as the REST API stores them', () => {
      const result = desiredSubscription({ ...spec, retry: { maxAttempts: 3, scheduleMs: [1000, 5000] }, timeoutMs: 5000 }, { kind: 'none' });
      assert.deepEqual(result, { ok: true, desired: desired({ retryPolicy: { maxAttempts: 3, scheduleMs: [1000, 5000] }, timeoutMs: 5000 }) });
    });
    it('refuses what the schema cannot judge: JSONPath syntax, regex dialect, operator values', () => {
      const bad = [
        { type: 'jsonpath', expression: '$.a ==' },
        { type: 'custom', function: { field: 'a', operator: 'matches', value: '(a)\\1' } },
        { type: 'custom', function: { field: 'a', operator: 'exists', value: 1 } },
      ];
      for (const selector of bad) {
        const result = desiredSubscription({ ...spec, selector }, { kind: 'none' });
        assert.equal(result.ok, false, JSON.stringify(selector));
        assert.equal(!result.ok && result.reason, 'InvalidSelector');
        assert.match(!result.ok ? result.message : '', /^spec\.selector: /);
      }
    });
    it('applies the SSRF policy to the webhook URL', () => {
      const result = desiredSubscription({ ...spec, webhookUrl: 'http://127.0.0.1:8080/hook' }, { kind: 'none' });
      assert.equal(!result.ok && result.reason, 'InvalidWebhookUrl');
      assert.equal(desiredSubscription({ ...spec, webhookUrl: 'http://127.0.0.1:8080/hook' }, { kind: 'loopback' }).ok, true);
    });
  });

  describe('planSync', () => {
    it('creates an owned subscription with the referenced secret, or a generated one without a reference', () => {
      const created = plan({ existing: null });
      assert.equal(created.action, 'create');
      assert.deepEqual(created.action === 'create' && created.subscription, { ...stored({ createdAt: NOW, updatedAt: NOW }) });
      const generated = plan({ existing: null, secretFromRef: null });
      assert.equal(generated.action === 'create' && generated.subscription.secret, SECRET_B);
      const disabled = plan({ existing: null, desired: desired({ enabled: false }) });
      assert.equal(disabled.action === 'create' && disabled.subscription.status, 'disabled');
    });

    it('does nothing when the store already matches (a resync writes nothing)', () => {
      assert.deepEqual(plan({}), { action: 'none' });
      assert.deepEqual(plan({ secretFromRef: null }), { action: 'none' }, 'no reference: the current secret stays');
    });

    it('patches only the fields that differ', () => {
      const changed = plan({ desired: desired({ eventSelector: { type: 'event_type', value: 'order.paid' }, description: 'Paid', batching: { maxEvents: 10, windowMs: 500 } }) });
      assert.deepEqual(changed, {
        action: 'update',
        patch: { updatedAt: NOW, eventSelector: { type: 'event_type', value: 'order.paid' }, description: 'Paid', batching: { maxEvents: 10, windowMs: 500 } },
      });
      const retry = plan({ desired: desired({ retryPolicy: { baseMs: 500 }, timeoutMs: 2000 }) });
      assert.deepEqual(retry, { action: 'update', patch: { updatedAt: NOW, retryPolicy: { baseMs: 500 }, timeoutMs: 2000 } });
    });

    it('rotates to a new Secret value, the previous one signing on for the REST API overlap (24 h)', () => {
      assert.deepEqual(plan({ secretFromRef: SECRET_B }), {
        action: 'update',
        patch: { updatedAt: NOW, secret: SECRET_B, previousSecret: SECRET_A, previousSecretExpiresAt: NOW + PREVIOUS_SECRET_TTL_MS },
      });
      assert.equal(PREVIOUS_SECRET_TTL_MS, 24 * 3600_000);
    });

    it('disables on enabled: false and clears a reason Triggers gave; enables one the spec disabled', () => {
      assert.deepEqual(plan({ desired: desired({ enabled: false }) }), { action: 'update', patch: { updatedAt: NOW, status: 'disabled' } });
      assert.deepEqual(plan({ desired: desired({ enabled: false }), existing: stored({ status: 'disabled', disabledReason: 'The webhook answered 410 Gone' }) }), {
        action: 'update',
        patch: { updatedAt: NOW, disabledReason: null },
      });
      assert.deepEqual(plan({ existing: stored({ status: 'disabled' }) }), { action: 'update', patch: { updatedAt: NOW, status: 'active' } });
    });

    it('leaves a subscription Triggers disabled after a 410 off until the URL changes', () => {
      const gone = stored({ status: 'disabled', disabledReason: 'The webhook answered 410 Gone on 2026-12-02T07:59:00.000Z' });
      assert.deepEqual(plan({ existing: gone }), { action: 'none' });
      assert.deepEqual(plan({ existing: gone, desired: desired({ webhookUrl: 'https://new.example.com/hook' }) }), {
        action: 'update',
        patch: { updatedAt: NOW, webhookUrl: 'https://new.example.com/hook', status: 'active', disabledReason: null },
      });
    });
  });

  describe('buildStatus', () => {
    const resource = (status?: SubscriptionResource['status'], generation = 3): SubscriptionResource => ({
      metadata: { name: 'orders', namespace: 'shop', uid, generation },
      spec: { customerId, selector: {}, webhookUrl: 'https://hooks.example.com/orders' },
      status,
    });

    it('Ready and Synced True with observedGeneration and the subscription id', () => {
      const status = buildStatus(resource(), { kind: 'synced', subscription: stored() }, NOW);
      assert.equal(status.observedGeneration, 3);
      assert.equal(status.subscriptionId, uid);
      assert.deepEqual(status.conditions?.map((c) => [c.type, c.status, c.reason, c.observedGeneration]), [['Ready', 'True', 'Active', 3], ['Synced', 'True', 'Synced', 3]]);
      assert.equal(status.conditions?.[0].lastTransitionTime, '2026-12-02T08:00:00Z');
    });

    it('shows a 410 disabling: Ready False WebhookGone, disabledReason and lastDelivery', () => {
      const gone = stored({ status: 'disabled', disabledReason: 'The webhook answered 410 Gone on 2026-12-02T07:59:00.000Z', updatedAt: NOW - 1000 });
      const status = buildStatus(resource(), { kind: 'synced', subscription: gone }, NOW);
      assert.equal(status.conditions?.[0].status, 'False');
      assert.equal(status.conditions?.[0].reason, 'WebhookGone');
      assert.equal(status.disabledReason, gone.disabledReason);
      assert.deepEqual(status.lastDelivery, { outcome: 'Gone', at: new Date(NOW - 1000).toISOString() });
    });

    it('a failure is Ready and Synced False with its reason; an unreachable store leaves Ready Unknown', () => {
      const status = buildStatus(resource(), { kind: 'failed', reason: 'CustomerNotFound', message: 'No customer', subscription: null }, NOW);
      assert.deepEqual(status.conditions?.map((c) => [c.type, c.status, c.reason]), [['Ready', 'False', 'CustomerNotFound'], ['Synced', 'False', 'CustomerNotFound']]);
      const down = buildStatus(resource(), { kind: 'failed', reason: 'StoreUnavailable', message: 'down', subscription: null }, NOW);
      assert.equal(down.conditions?.[0].status, 'Unknown');
    });

    it('keeps lastTransitionTime while a condition keeps its status, and reports no change for an equal status', () => {
      const first = buildStatus(resource(), { kind: 'synced', subscription: stored() }, NOW);
      const again = buildStatus(resource(first), { kind: 'synced', subscription: stored() }, NOW + 60_000);
      assert.equal(statusChanged(first, again), false, 'a resync of an unchanged subscription writes nothing');
      const flipped = buildStatus(resource(first), { kind: 'synced', subscription: stored({ status: 'disabled' }) }, NOW + 60_000);
      assert.equal(flipped.conditions?.[0].lastTransitionTime, '2026-12-02T08:01:00Z');
      assert.equal(flipped.conditions?.[1].lastTransitionTime, first.conditions?.[1].lastTransitionTime);
      assert.equal(statusChanged(first, buildStatus(resource(first, 4), { kind: 'synced', subscription: stored() }, NOW)), true, 'a new generation is a change');
    });
  });
});
