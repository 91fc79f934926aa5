import assert from 'node:assert/strict';
import { ManualClock, type Subscription } from '@triggers/core/domain';
import { createLogger } from '@triggers/core/runtime';
import type { MetadataStore } from '@triggers/core/ports';
import { SubscriptionCache } from './subscription-cache.ts';

const CUSTOMER = '00000000-0000-4000-8000-000000000001';

function subscription(workflowId: string, eventType: string): Subscription {
  return {
    workflowId,
    customerId: CUSTOMER,
    eventSelector: { type: 'event_type', value: eventType },
    webhookUrl: 'https://hooks.example.com/x',
    description: null,
    status: 'active',
    disabledReason: null,
    secret: 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
    previousSecret: null,
    previousSecretExpiresAt: null,
    batching: null,
    createdAt: 0,
    updatedAt: 0,
  };
}

/**
 * The two reads the cache makes, answered by a network store: each read sees the data as it is
 * when the read starts, and its answer arrives only when the test releases it.
 */
function slowStore() {
  const state = { version: 1, active: [subscription('wf-old', 'order.created')] };
  const pending: Array<() => void> = [];
  const reply = <T>(value: T) => new Promise<T>((resolve) => pending.push(() => resolve(value)));
  const store = {
    getSubscriptionsVersion: async () => reply(state.version),
    listActiveSubscriptions: async () => reply([...state.active]),
  } as unknown as MetadataStore;
  /** Answers the reads in flight now, once the reads already started have gone out. */
  const answerNext = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    pending.splice(0).forEach((answer) => answer());
    await new Promise((resolve) => setImmediate(resolve));
  };
  const inFlight = () => pending.length;
  /** Answers every read in flight, and the reads those answers lead to, until none is left. */
  const settle = async () => {
    for (let rounds = 0; rounds < 10; rounds++) {
      await new Promise((resolve) => setImmediate(resolve));
      const now = pending.splice(0);
      if (now.length === 0) return;
      now.forEach((answer) => answer());
    }
  };
  return { store, state, settle, answerNext, inFlight };
}

describe('SubscriptionCache', () => {
  const log = createLogger({ level: 'silent', service: 'test' });

  it('does not answer an event accepted after a change with a read that started before it', async () => {
    const clock = new ManualClock(1000);
    const { store, state, settle, answerNext, inFlight } = slowStore();
    const cache = new SubscriptionCache(store, clock, log);

    // An event accepted at 990 starts a refresh at 1000; both its reads go out before the change.
    const early = cache.forEvent(CUSTOMER, 990);
    await answerNext(); // the version read (1) is answered; the list read goes out
    assert.equal(inFlight(), 1);

    // Meanwhile a change commits and is answered (1001), then a new event is accepted (1002).
    state.version = 2;
    state.active = [subscription('wf-new', 'order.created')];
    clock.set(1003);
    const late = cache.forEvent(CUSTOMER, 1002);

    await settle();
    assert.deepEqual((await early).map((s) => s.subscription.workflowId), ['wf-old'], 'the earlier event keeps what its own refresh read');
    assert.deepEqual((await late).map((s) => s.subscription.workflowId), ['wf-new'], 'the event accepted after the change sees the change');
  });

  it('shares one refresh among events accepted before it started', async () => {
    const clock = new ManualClock(1000);
    const { store, settle } = slowStore();
    let versionReads = 0;
    const counting = { ...store, getSubscriptionsVersion: (id: string) => (versionReads++, store.getSubscriptionsVersion(id)) } as MetadataStore;
    const cache = new SubscriptionCache(counting, clock, log);
    const a = cache.forEvent(CUSTOMER, 990);
    const b = cache.forEvent(CUSTOMER, 995);
    await settle();
    assert.equal((await a).length, 1);
    assert.equal((await b).length, 1);
    assert.equal(versionReads, 1);
  });

  it('uses a confirmed entry for earlier events without reading again, and re-checks for later ones', async () => {
    const clock = new ManualClock(1000);
    const { store, state, settle } = slowStore();
    const cache = new SubscriptionCache(store, clock, log);
    const first = cache.forEvent(CUSTOMER, 990);
    await settle();
    await first;

    state.version = 2;
    state.active = [];
    assert.equal((await cache.forEvent(CUSTOMER, 999)).length, 1, 'accepted before the entry was confirmed');
    clock.set(1010);
    const later = cache.forEvent(CUSTOMER, 1005);
    await settle();
    assert.equal((await later).length, 0);
  });
});
