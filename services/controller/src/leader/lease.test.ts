import assert from 'node:assert/strict';
import pino from 'pino';
import { KubeError } from '../kube/kube-client.ts';
import { ManualScheduler } from '../scheduler.testing.ts';
import { decideLease, leaseSpecFor, microTime, type Lease } from './lease-decision.ts';
import { LeaderElector, type LeaseStore } from './leader-elector.ts';

const log = pino({ level: 'silent' });
const lease = (holder: string | null, durationSeconds = 10, resourceVersion = '1'): Lease => ({
  metadata: { name: 'l', namespace: 'ns', resourceVersion },
  spec: { holderIdentity: holder, leaseDurationSeconds: durationSeconds },
});

describe('decideLease', () => {
  it('creates a Lease that does not exist', () => {
    assert.equal(decideLease({ lease: null, observedAt: 0, now: 0, identity: 'a' }), 'create');
  });
  it('renews its own Lease', () => {
    assert.equal(decideLease({ lease: lease('a'), observedAt: 0, now: 99_000, identity: 'a' }), 'renew');
  });
  it('takes over a released Lease at once', () => {
    assert.equal(decideLease({ lease: lease(null), observedAt: 5000, now: 5000, identity: 'a' }), 'acquire');
    assert.equal(decideLease({ lease: lease(''), observedAt: 5000, now: 5000, identity: 'a' }), 'acquire');
  });
  it("waits while another replica's Lease is younger than its duration by this replica's clock", () => {
    assert.equal(decideLease({ lease: lease('b', 10), observedAt: 1000, now: 10_999, identity: 'a' }), 'wait');
    assert.equal(decideLease({ lease: lease('b', 10), observedAt: 1000, now: 11_000, identity: 'a' }), 'acquire');
  });
  it("ignores the other machine's renewTime (clock skew cannot make two leaders)", () => {
    const stale = { ...lease('b', 10), spec: { ...lease('b', 10).spec, renewTime: microTime(0) } };
    assert.equal(decideLease({ lease: stale, observedAt: 50_000, now: 55_000, identity: 'a' }), 'wait');
  });
  it('counts transitions and keeps acquireTime on renew', () => {
    const acquired = leaseSpecFor('acquire', { holderIdentity: 'b', leaseTransitions: 3, acquireTime: 'x' }, 'a', 15_000, 0);
    assert.equal(acquired.leaseTransitions, 4);
    assert.equal(acquired.leaseDurationSeconds, 15);
    assert.equal(acquired.renewTime, '1970-01-01T00:00:00.000000Z');
    const renewed = leaseSpecFor('renew', acquired, 'a', 15_000, 2000);
    assert.equal(renewed.acquireTime, acquired.acquireTime);
    assert.equal(renewed.renewTime, '1970-01-01T00:00:02.000000Z');
    assert.equal(leaseSpecFor('create', undefined, 'a', 15_000, 0).leaseTransitions, 0);
  });
});

/** A Lease held in memory with the API server's optimistic concurrency (409 on a stale resourceVersion). */
class MemoryLeaseStore implements LeaseStore {
  lease: Lease | null = null;
  version = 0;
  failing = false;
  writes = 0;
  async get() {
    if (this.failing) throw new KubeError(0, 'connection refused');
    return this.lease && structuredClone(this.lease);
  }
  async create(l: Lease) {
    if (this.failing) throw new KubeError(0, 'connection refused');
    if (this.lease) throw new KubeError(409, 'leases "l" already exists', 'AlreadyExists');
    this.writes++;
    this.lease = { ...structuredClone(l), metadata: { ...l.metadata, resourceVersion: String(++this.version) } };
    return structuredClone(this.lease);
  }
  async update(l: Lease) {
    if (this.failing) throw new KubeError(0, 'connection refused');
    if (l.metadata.resourceVersion !== this.lease?.metadata.resourceVersion) throw new KubeError(409, 'conflict', 'Conflict');
    this.writes++;
    this.lease = { ...structuredClone(l), metadata: { ...l.metadata, resourceVersion: String(++this.version) } };
    return structuredClone(this.lease);
  }
}

describe('LeaderElector', () => {
  let scheduler: ManualScheduler;
  let store: MemoryLeaseStore;
  const transitions: string[] = [];
  const elector = (identity: string) =>
    new LeaderElector(
      {
        kube: undefined as never,
        scheduler,
        log,
        namespace: 'ns',
        name: 'l',
        identity,
        durationMs: 10_000,
        retryMs: 2000,
        renewDeadlineMs: 6000,
        onStartedLeading: () => transitions.push(`${identity}+`),
        onStoppedLeading: () => transitions.push(`${identity}-`),
      },
      store,
    );
  beforeEach(() => {
    scheduler = new ManualScheduler(0);
    store = new MemoryLeaseStore();
    transitions.length = 0;
  });

  it('lets exactly one of two replicas lead; the other writes nothing while the Lease is renewed', async () => {
    const a = elector('a');
    const b = elector('b');
    await a.tick();
    await b.tick();
    assert.equal(a.isLeader, true);
    assert.equal(b.isLeader, false);
    for (let i = 0; i < 20; i++) {
      await scheduler.advance(2000);
      await a.tick();
      const before = store.writes;
      await b.tick();
      assert.equal(store.writes, before, 'the follower never writes');
      assert.equal(b.isLeader, false);
    }
    assert.deepEqual(transitions, ['a+']);
  });

  it('takes over once the holder stops renewing for the lease duration (by its own clock)', async () => {
    const a = elector('a');
    const b = elector('b');
    await a.tick();
    await b.tick();
    await scheduler.advance(9_999);
    await b.tick();
    assert.equal(b.isLeader, false);
    await scheduler.advance(1);
    await b.tick();
    assert.equal(b.isLeader, true);
    assert.equal(store.lease?.spec?.holderIdentity, 'b');
    assert.equal(store.lease?.spec?.leaseTransitions, 1);
    // The old holder comes back: it sees b's Lease and steps down without writing.
    const writes = store.writes;
    await a.tick();
    assert.equal(a.isLeader, false);
    assert.equal(store.writes, writes);
    assert.deepEqual(transitions, ['a+', 'b+', 'a-']);
  });

  it('a leader that cannot renew steps down before the Lease can expire for the others', async () => {
    const a = elector('a');
    await a.tick();
    store.failing = true;
    await scheduler.advance(2000);
    await a.tick();
    assert.equal(a.isLeader, true, 'still within the renew deadline');
    await scheduler.advance(4000);
    await a.tick();
    assert.equal(a.isLeader, false, 'renew deadline (6 s) passed, well before the 10 s lease duration');
  });

  it('releases the Lease on stop so the other replica takes over at once', async () => {
    const a = elector('a');
    const b = elector('b');
    a.start();
    await scheduler.advance(0);
    assert.equal(a.isLeader, true);
    await a.stop();
    assert.equal(store.lease?.spec?.holderIdentity, null);
    await b.tick();
    assert.equal(b.isLeader, true, 'no need to wait for the 10 s duration');
    assert.deepEqual(transitions, ['a+', 'a-', 'b+']);
  });

  it('loses a race to create the Lease without an error: the other replica wrote first', async () => {
    const a = elector('a');
    const b = elector('b');
    store.lease = null;
    const originalGet = store.get.bind(store);
    store.get = async () => null; // both read "no Lease" before either creates it
    await a.tick();
    await b.tick();
    store.get = originalGet;
    assert.equal(a.isLeader, true);
    assert.equal(b.isLeader, false);
  });
});
