import assert from 'node:assert/strict';
import { FairShare, MAX_DEFERRAL_MS, MIN_DEFERRAL_MS, WAITING_SHARES } from './fair-share.ts';

/** The fair-share limiter on its own, with a hand-moved clock and no jitter (random() = 0.5). */
describe('deliverer: fair share per subscription and per origin', () => {
  let now = 0;
  const make = (perSubscription: number, perOrigin: number) => new FairShare({ perSubscription, perOrigin }, () => now, () => 0.5);
  beforeEach(() => {
    now = 1_000_000;
  });

  it('lets a subscription hold at most its share, and other subscriptions keep their own', () => {
    const share = make(2, 100);
    const a1 = share.tryAcquire('sub-a', 'https://a.example');
    const a2 = share.tryAcquire('sub-a', 'https://a.example');
    assert.ok(a1 && a2);
    assert.equal(share.tryAcquire('sub-a', 'https://a.example'), null, 'the third request of sub-a waits');
    assert.ok(share.tryAcquire('sub-b', 'https://b.example'), 'another tenant is not held up');
    a1.release();
    assert.ok(share.tryAcquire('sub-a', 'https://a.example'), 'a released slot is free again');
    a1.release(); // twice is harmless
    assert.deepEqual(share.inFlight('sub-a', 'https://a.example'), { subscription: 2, origin: 2 });
  });

  it('caps an origin over all the subscriptions that post to it', () => {
    const share = make(10, 3);
    for (const sub of ['s1', 's2', 's3']) assert.ok(share.tryAcquire(sub, 'https://shared.example'));
    assert.equal(share.tryAcquire('s4', 'https://shared.example'), null);
    assert.ok(share.tryAcquire('s4', 'https://other.example'));
  });

  it('hands deferred messages successive turns at the pace the key frees slots, between the minimum and a minute', () => {
    const share = make(4, 100);
    const slots = Array.from({ length: 4 }, () => share.tryAcquire('slow', 'https://slow.example')!);
    // Four requests of 2 s each: the subscription frees a slot every 500 ms on average.
    now += 2000;
    for (const slot of slots) slot.release();
    for (let i = 0; i < 4; i++) share.tryAcquire('slow', 'https://slow.example');
    const turns = Array.from({ length: 6 }, () => share.deferralMs('slow', 'https://slow.example'));
    // The average moved from the 1 s guess toward 2 s: 1000 + 0.2 × (2000 − 1000) × … for four releases.
    const averageMs = [0, 1, 2, 3].reduce((avg) => avg + 0.2 * (2000 - avg), 1000);
    turns.forEach((turn, i) => assert.ok(Math.abs(turn - Math.max(MIN_DEFERRAL_MS, ((i + 1) * averageMs) / 4)) <= 1, `turn ${i}: ${turn} ms`));
    for (let i = 0; i < 1000; i++) share.deferralMs('slow', 'https://slow.example');
    assert.equal(share.deferralMs('slow', 'https://slow.example'), MAX_DEFERRAL_MS, 'never more than a minute out');
  });

  it('waitOrDefer: a fast key\'s refused messages wait for their turn, in order; a slow key\'s first few shares wait, later ones are put back', async () => {
    const share = make(2, 100);
    for (let i = 0; i < 30; i++) {
      const pair = [share.tryAcquire('fast', 'https://fast.example')!, share.tryAcquire('fast', 'https://fast.example')!];
      now += 4; // 4 ms requests: once the average has moved from the 1 s guess, a slot frees every ~2 ms
      for (const slot of pair) slot.release();
    }
    const held = [share.tryAcquire('fast', 'https://fast.example')!, share.tryAcquire('fast', 'https://fast.example')!];
    assert.equal(share.tryAcquire('fast', 'https://fast.example'), null);
    const order: number[] = [];
    const waits = Array.from({ length: 20 }, (_, i) => {
      const turn = share.waitOrDefer('fast', 'https://fast.example');
      assert.ok('slot' in turn, `message ${i} of a fast key waits instead of being put back`);
      return turn.slot.then((slot) => {
        order.push(i);
        return slot;
      });
    });
    assert.equal(share.tryAcquire('fast', 'https://fast.example'), null, 'a newcomer does not jump the waiting ones');
    for (const slot of held) slot.release();
    await Promise.resolve();
    await Promise.resolve();
    assert.deepEqual(order, [0, 1], 'the two freed slots go to the first two waiting, in order');
    for (let i = 0; i < 20; i++) (await waits[i]).release();
    assert.deepEqual(order, Array.from({ length: 20 }, (_, i) => i));
    assert.deepEqual(share.inFlight('fast', 'https://fast.example'), { subscription: 0, origin: 0 });

    const slow = make(4, 100);
    const slots = Array.from({ length: 4 }, () => slow.tryAcquire('slow', 'https://slow.example')!);
    now += 800; // 800 ms requests: the average moves from the 1 s guess to ~882 ms, a turn every ~220 ms
    for (const slot of slots) slot.release();
    for (let i = 0; i < 4; i++) slow.tryAcquire('slow', 'https://slow.example');
    const turns = Array.from({ length: WAITING_SHARES * 4 + 2 }, () => slow.waitOrDefer('slow', 'https://slow.example'));
    assert.ok(turns.slice(0, WAITING_SHARES * 4).every((t) => 'slot' in t), 'up to WAITING_SHARES shares of a slow key wait for a slot');
    const later = turns.slice(WAITING_SHARES * 4);
    assert.ok(later.every((t) => 'deferMs' in t && t.deferMs >= 3000), `the rest are put back for their turn, seconds out: ${JSON.stringify(later)}`);
  });

  it('a message of a key that is not saturated is deferred only the minimum', () => {
    const share = make(1, 100);
    assert.equal(share.deferralMs('idle', 'https://idle.example'), MIN_DEFERRAL_MS);
  });

  it('acquire waits for a slot and goes before tryAcquire when one frees', async () => {
    const share = make(1, 100);
    const first = share.tryAcquire('batching', 'https://b.example')!;
    let granted = false;
    const waiting = share.acquire('batching', 'https://b.example').then((slot) => {
      granted = true;
      return slot;
    });
    await Promise.resolve();
    assert.equal(granted, false);
    first.release();
    assert.equal(share.tryAcquire('batching', 'https://b.example'), null, 'the waiting flush got the freed slot');
    (await waiting).release();
    assert.ok(share.tryAcquire('batching', 'https://b.example'));
  });
  it('tells the queue how many more messages of each busy subscription it has room for, counting messages being handled once', () => {
    const share = make(3, 100);
    assert.deepEqual([...share.subscriptionRoom().keys], [], 'nothing busy: every subscription has the whole share');
    assert.equal(share.subscriptionRoom().perKey, 3);
    const handlingA = share.handling('sub-a');
    assert.deepEqual([...share.subscriptionRoom().keys], [['sub-a', 2]], 'a received message counts before it takes its slot');
    const a1 = share.tryAcquire('sub-a', 'https://a.example')!;
    assert.deepEqual([...share.subscriptionRoom().keys], [['sub-a', 2]], 'and once it holds the slot, it is not counted twice');
    const a2 = share.tryAcquire('sub-a', 'https://a.example')!;
    const a3 = share.tryAcquire('sub-a', 'https://a.example')!;
    assert.deepEqual([...share.subscriptionRoom().keys], [['sub-a', 0]], 'saturated: no room');
    a1.release();
    a2.release();
    handlingA();
    handlingA(); // twice is harmless
    assert.deepEqual([...share.subscriptionRoom().keys], [['sub-a', 2]]);
    a3.release();
    assert.deepEqual([...share.subscriptionRoom().keys], []);
  });
});
