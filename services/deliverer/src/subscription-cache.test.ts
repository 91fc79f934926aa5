import assert from 'node:assert/strict';
import { createServiceContext, loadConfig, type ServiceContext } from '@triggers/core/runtime';
import { ManualClock } from '@triggers/core/domain';
import type { MetadataStore } from '@triggers/core/ports';
import { engineAddresses, POSTGRES, prepareBackends, REDIS, requireEngine, subscriptionRecord, uniqueId, type PreparedBackends } from '@triggers/testkit';
import { SUBSCRIPTION_CACHE_MS, SubscriptionCache } from './subscription-cache.ts';

describe('deliverer: SubscriptionCache (PostgreSQL metadata store)', function () {
  this.timeout(60_000);
  requireEngine(POSTGRES);
  requireEngine(REDIS);
  let backends: PreparedBackends | undefined;
  let ctx: ServiceContext | undefined;
  let store: MetadataStore;
  /** The store's subscription reads so far (the real store answers them). */
  let reads = 0;

  before(async () => {
    backends = await prepareBackends({ eventStore: 'postgres', metadataStore: 'postgres', queue: 'sqlite', cache: 'redis' }, engineAddresses(), 'subscription-cache');
    ctx = await createServiceContext(loadConfig({ ...backends.env, TRIGGERS_LOG_LEVEL: 'silent' }), { service: 'subscription-cache-test', processMetrics: false });
    const real = ctx.backends.metadataStore;
    store = Object.create(real, {
      getSubscription: {
        value: (customerId: string, workflowId: string) => {
          reads++;
          return real.getSubscription(customerId, workflowId);
        },
      },
    }) as MetadataStore;
  });
  after(async () => {
    await ctx?.backends.close();
    await backends?.cleanup();
  });

  /** A fresh subscription posting to /a, and a cache on a manual clock at `now`. */
  async function setUp(now: number) {
    const customerId = uniqueId();
    const workflowId = uniqueId();
    await store.createSubscription(subscriptionRecord({ workflowId, customerId, eventSelector: { type: 'event_type', value: 'x' }, webhookUrl: 'https://hooks.example.com/a' }));
    const clock = new ManualClock(now);
    const cache = new SubscriptionCache(store, clock);
    const delivery = (createdAt: number, attemptsMade = 0) => ({ customerId, workflowId, createdAt, attemptsMade });
    const moveTo = (url: string) => store.updateSubscription(customerId, workflowId, { webhookUrl: url, updatedAt: clock.now() });
    return { customerId, workflowId, clock, cache, delivery, moveTo };
  }

  it('serves the first attempts of deliveries made before its read, for SUBSCRIPTION_CACHE_MS, with one read', async () => {
    const { clock, cache, delivery, moveTo } = await setUp(1_000_000);
    const before = reads;
    const first = await Promise.all([1, 2, 3].map((i) => cache.forDelivery(delivery(1_000_000 - i))));
    assert.deepEqual(first.map((s) => s?.webhookUrl), ['https://hooks.example.com/a', 'https://hooks.example.com/a', 'https://hooks.example.com/a']);
    assert.equal(reads - before, 1, 'concurrent misses share one read');

    await moveTo('https://hooks.example.com/b');
    clock.advance(SUBSCRIPTION_CACHE_MS);
    assert.equal((await cache.forDelivery(delivery(999_990)))?.webhookUrl, 'https://hooks.example.com/a', 'within the bound: the read is reused');
    assert.equal(reads - before, 1);
    clock.advance(1);
    assert.equal((await cache.forDelivery(delivery(999_990)))?.webhookUrl, 'https://hooks.example.com/b', 'past the bound: read again');
    assert.equal(reads - before, 2);
  });

  it('reads again for a delivery made after its read (a change answered before the event was accepted applies to it)', async () => {
    const { clock, cache, delivery, moveTo } = await setUp(2_000_000);
    assert.equal((await cache.forDelivery(delivery(1_999_999)))?.webhookUrl, 'https://hooks.example.com/a');
    await moveTo('https://hooks.example.com/b');
    clock.advance(10);
    assert.equal((await cache.forDelivery(delivery(2_000_005)))?.webhookUrl, 'https://hooks.example.com/b');
    // And that newer read now serves the older deliveries too.
    const before = reads;
    assert.equal((await cache.forDelivery(delivery(1_999_999)))?.webhookUrl, 'https://hooks.example.com/b');
    assert.equal(reads, before);
  });

  it('reads afresh for a retry, so a disabled subscription stops the retries under way', async () => {
    const { customerId, workflowId, clock, cache, delivery } = await setUp(3_000_000);
    assert.equal((await cache.forDelivery(delivery(2_999_999)))?.status, 'active');
    await store.updateSubscription(customerId, workflowId, { status: 'disabled', updatedAt: clock.now() });
    assert.equal((await cache.forDelivery(delivery(2_999_999, 1)))?.status, 'disabled');
  });

  it('answers null for a deleted subscription once its read is past the bound; forget drops a read at once', async () => {
    const { customerId, workflowId, clock, cache, delivery } = await setUp(4_000_000);
    assert.ok(await cache.forDelivery(delivery(3_999_999)));
    assert.equal(await store.deleteSubscription(customerId, workflowId), true);
    assert.ok(await cache.forDelivery(delivery(3_999_999)), 'within the bound');
    cache.forget(customerId, workflowId);
    assert.equal(await cache.forDelivery(delivery(3_999_999)), null);
    clock.advance(SUBSCRIPTION_CACHE_MS + 1);
    assert.equal(await cache.forDelivery(delivery(3_999_999)), null);
  });
});
