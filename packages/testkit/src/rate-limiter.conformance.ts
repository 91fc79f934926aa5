import assert from 'node:assert/strict';
import { ManualClock, type Clock } from '@triggers/core/domain';
import type { RateLimitDecision, RateLimiter } from '@triggers/core/ports';
import { sleep, uniqueId } from './helpers.ts';

export interface RateLimiterSuiteCapabilities {
  /**
   * True when the limiter reads the clock passed to `makeLimiter` (in-process limiters): the suite
   * then moves time by hand and checks exact token counts. False (e.g. Redis, which uses the
   * server's time): the suite sleeps and allows a token of slack.
   */
  injectableClock: boolean;
}

/**
 * The RateLimiter contract (ports/rate-limiter.ts). `makeLimiter` is called before every test with
 * a clock the suite controls (ignored by limiters without an injectable clock).
 */
export function rateLimiterConformance(makeLimiter: (clock: Clock) => Promise<RateLimiter>, capabilities: RateLimiterSuiteCapabilities): void {
  const slack = capabilities.injectableClock ? 0 : 1;

  describe('RateLimiter conformance', function () {
    let limiter: RateLimiter;
    let clock: ManualClock;

    beforeEach(async function () {
      clock = new ManualClock(Date.now());
      limiter = await makeLimiter(clock);
    });

    afterEach(async function () {
      await limiter?.close();
    });

    async function advance(ms: number): Promise<void> {
      if (capabilities.injectableClock) clock.advance(ms);
      else await sleep(ms);
    }

    async function drain(customerId: string, rate: number): Promise<void> {
      const decision = await limiter.consume(customerId, rate, rate);
      assert.equal(decision.allowed, true, 'a full bucket admits its whole capacity at once');
    }

    function assertClose(actual: number, expected: number, message: string): void {
      assert.ok(Math.abs(actual - expected) <= slack, `${message}: expected ${expected}${slack ? ` ±${slack}` : ''}, got ${actual}`);
    }

    it('admits a burst of one second’s worth, then refuses', async function () {
      const customerId = uniqueId();
      const decisions: RateLimitDecision[] = [];
      for (let i = 0; i < 10; i++) decisions.push(await limiter.consume(customerId, 1, 10));
      assert.ok(decisions.every((d) => d.allowed && d.limit === 10));
      assertClose(decisions[0].remaining, 9, 'remaining after the first');
      assertClose(decisions[9].remaining, 0, 'remaining after the tenth');

      const refused = await limiter.consume(customerId, capabilities.injectableClock ? 1 : 2, 10);
      assert.equal(refused.allowed, false);
      assert.equal(refused.limit, 10);
      assert.ok(Number.isInteger(refused.retryAfterSeconds) && refused.retryAfterSeconds >= 1, `retryAfterSeconds ${refused.retryAfterSeconds}`);
      assert.ok(refused.resetSeconds >= 1 && Number.isFinite(refused.resetSeconds));
    });

    it('refills continuously at the rate', async function () {
      const customerId = uniqueId();
      await drain(customerId, 10);
      await advance(300);
      const decision = await limiter.consume(customerId, 1, 10);
      assert.equal(decision.allowed, true);
      assertClose(decision.remaining, 2, 'three tokens accrued in 300 ms, one taken');
      if (capabilities.injectableClock) {
        assert.equal((await limiter.consume(customerId, 2, 10)).allowed, true);
        assert.equal((await limiter.consume(customerId, 1, 10)).allowed, false);
      }
    });

    it('never holds more than its capacity', async function () {
      const customerId = uniqueId();
      await limiter.consume(customerId, 1, 10);
      await advance(capabilities.injectableClock ? 60_000 : 1500);
      const decision = await limiter.consume(customerId, 1, 10);
      assert.equal(decision.remaining, 9);
      assert.equal((await limiter.consume(customerId, 10, 10)).allowed, false, 'only nine left');
    });

    it('takes the whole cost or nothing', async function () {
      const customerId = uniqueId();
      const first = await limiter.consume(customerId, 7, 10);
      assert.equal(first.allowed, true);
      assertClose(first.remaining, 3, 'remaining after 7');
      const refused = await limiter.consume(customerId, 5, 10);
      assert.equal(refused.allowed, false);
      assertClose(refused.remaining, 3, 'a refusal takes nothing');
      assert.equal((await limiter.consume(customerId, 3, 10)).allowed, true, 'the three are still there');
    });

    it('always refuses a cost above the capacity, with a finite retryAfter, and takes nothing', async function () {
      const customerId = uniqueId();
      const refused = await limiter.consume(customerId, 11, 10);
      assert.equal(refused.allowed, false);
      assert.ok(Number.isInteger(refused.retryAfterSeconds) && refused.retryAfterSeconds >= 1 && refused.retryAfterSeconds < 3600, `retryAfterSeconds ${refused.retryAfterSeconds}`);
      await advance(capabilities.injectableClock ? 3_600_000 : 500);
      assert.equal((await limiter.consume(customerId, 11, 10)).allowed, false, 'even after a long rest');
      assert.equal((await limiter.consume(customerId, 10, 10)).allowed, true, 'the bucket was left untouched');
    });

    it('says how long until a refused cost fits', async function () {
      const customerId = uniqueId();
      await drain(customerId, 2);
      const refused = await limiter.consume(customerId, 2, 2);
      assert.equal(refused.allowed, false);
      assert.equal(refused.retryAfterSeconds, 1);
      await advance(1000);
      assert.equal((await limiter.consume(customerId, 2, 2)).allowed, true, 'and it fits then');
    });

    it('applies a changed rate from the next call', async function () {
      const customerId = uniqueId();
      const fast = await limiter.consume(customerId, 1, 100);
      assert.equal(fast.limit, 100);
      const lowered = await limiter.consume(customerId, 1, 5);
      assert.equal(lowered.limit, 5);
      assert.ok(lowered.remaining <= 4, `a lowered rate caps the bucket (remaining ${lowered.remaining})`);

      const raised = await limiter.consume(customerId, 1, 1000);
      assert.equal(raised.limit, 1000);
      await advance(200);
      const refilled = await limiter.consume(customerId, 150, 1000);
      assert.equal(refilled.allowed, true, 'refills at the raised rate (about 200 tokens in 200 ms)');
    });

    it('keeps customers apart', async function () {
      const a = uniqueId();
      const b = uniqueId();
      await drain(a, 5);
      assert.equal((await limiter.consume(a, 1, 5)).allowed, false);
      const other = await limiter.consume(b, 1, 5);
      assert.equal(other.allowed, true);
      assert.equal(other.remaining, 4);
    });

    it('reports resetSeconds as the whole seconds until the bucket is full again', async function () {
      const customerId = uniqueId();
      const untouched = await limiter.consume(customerId, 0, 10);
      assert.equal(untouched.allowed, true);
      assert.equal(untouched.remaining, 10);
      assert.equal(untouched.resetSeconds, 0, 'a full bucket');
      const one = await limiter.consume(customerId, 1, 10);
      assert.equal(one.resetSeconds, 1, 'a tenth of a second rounds up');
      const all = await limiter.consume(customerId, 9, 10);
      assert.equal(all.resetSeconds, 1, 'capacity is one second of refill');
    });

    it('answers ping', async function () {
      await limiter.ping();
    });
  });
}
