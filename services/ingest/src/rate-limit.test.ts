import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '@triggers/all-in-one/test-server';
import type { TestResponse } from '@triggers/core/testing';
import { assertProblem, inboxEvents, patchCustomer, post, sleep, type CustomerCredentials as Customer } from '@triggers/testkit';

const LIMIT = 5;
const batchOf = (count: number) => ({ events: Array.from({ length: count }, (_, n) => ({ payload: { n } })) });

/**
 * A token bucket per customer: capacity = the customer's events per second (burst of one second),
 * refilled continuously; batches cost one token per event. The server's default is 5/s here.
 */
describe('Rate limiting on POST /api/v1/events and /api/v1/events/batch', () => {
  let server: TestServer;
  before(async () => {
    // The default key cache (1 s) is what bounds how soon an admin change applies.
    server = await startTestServer({ TRIGGERS_RATE_LIMIT_PER_SECOND: String(LIMIT) });
  });
  after(async () => {
    await server?.close();
  });

  let customer: Customer;
  beforeEach(async () => {
    customer = await server.createCustomer();
  });
  const sendOne = (who: Customer = customer) => post(server, '/api/v1/events', who.apiKey, { payload: { event_type: 'limited' } });
  const sendBatch = (count: number, who: Customer = customer) => post(server, '/api/v1/events/batch', who.apiKey, batchOf(count));
  const header = (response: TestResponse, name: string) => response.headers.get(name);
  const wholeSeconds = (value: string | null) => {
    assert.match(value ?? '', /^\d+$/, `${value} is not a whole number of seconds`);
    return Number(value);
  };
  /** Spends the whole bucket with single events and returns the 429 that follows. */
  const exhaust = async (who: Customer = customer) => {
    for (let n = 0; n < LIMIT; n++) assert.equal((await sendOne(who)).status, 202);
    const refused = await sendOne(who);
    assertProblem(refused, 429, 'rate_limited');
    return refused;
  };

  describe('happy', () => {
    it(`lets ${LIMIT} events through in a burst, counting RateLimit-Remaining down`, async () => {
      for (let n = 1; n <= LIMIT; n++) {
        const response = await sendOne();
        assert.equal(response.status, 202, response.text);
        assert.equal(header(response, 'ratelimit-limit'), String(LIMIT));
        assert.equal(header(response, 'ratelimit-remaining'), String(LIMIT - n));
        assert.ok(wholeSeconds(header(response, 'ratelimit-reset')) >= 1);
      }
    });

    it('a batch costs its number of events', async () => {
      assert.equal((await sendBatch(3)).status, 202);
      const refused = await sendBatch(3);
      assertProblem(refused, 429, 'rate_limited');
      assert.equal(header(refused, 'ratelimit-remaining'), '2');
      assert.equal((await sendBatch(2)).status, 202);
      assert.equal((await inboxEvents(server, customer.apiKey)).length, 5);
    });

    it('refills: after Retry-After seconds the burst is available again', async () => {
      const refused = await exhaust();
      await sleep(wholeSeconds(header(refused, 'retry-after')) * 1000 + 20);
      for (let n = 0; n < LIMIT; n++) assert.equal((await sendOne()).status, 202, `event ${n + 1} after the refill`);
      assert.equal((await inboxEvents(server, customer.apiKey)).length, 2 * LIMIT);
    });

    it('a rate_limit_per_second set through the admin API applies within about 1 s', async () => {
      await exhaust();
      assertProblem(await sendBatch(10), 413, 'payload_too_large', { max_events: LIMIT });
      await patchCustomer(server, customer.customerId, { rate_limit_per_second: 100 });
      const changedAt = Date.now();

      // A batch of 10 can never pass at 5/s, so the first 202 shows the new limit in force.
      let accepted: TestResponse | undefined;
      while (!accepted) {
        const response = await sendBatch(10);
        if (response.status === 202) accepted = response;
        // 413 while the old limit is in force; 429 once the new one is, until its bucket holds 10.
        else if (response.status !== 429) assertProblem(response, 413, 'payload_too_large', { max_events: LIMIT });
        assert.ok(Date.now() - changedAt < 1500, 'the new limit did not apply within 1.5 s');
        if (!accepted) await sleep(25);
      }
      assert.equal(header(accepted, 'ratelimit-limit'), '100');
      assert.equal((await inboxEvents(server, customer.apiKey)).length, LIMIT + 10);
    });
  });

  describe('error', () => {
    it(`429 rate_limited for event ${LIMIT + 1}, with Retry-After and RateLimit headers, storing nothing for it`, async () => {
      const refused = await exhaust();
      assert.ok(wholeSeconds(header(refused, 'retry-after')) >= 1);
      assert.equal(header(refused, 'ratelimit-limit'), String(LIMIT));
      assert.equal(header(refused, 'ratelimit-remaining'), '0');
      assert.ok(wholeSeconds(header(refused, 'ratelimit-reset')) >= 1);
      assert.match(refused.body.detail, new RegExp(`${LIMIT} events per second`));
      assert.equal((await inboxEvents(server, customer.apiKey)).length, LIMIT);
    });

    it(`413 payload_too_large for a batch of ${2 * LIMIT} (more than the burst): it can never pass, so no Retry-After, and it spends nothing`, async () => {
      const refused = await sendBatch(2 * LIMIT);
      assertProblem(refused, 413, 'payload_too_large', { max_events: LIMIT });
      assert.equal(header(refused, 'retry-after'), null, 'no Retry-After: waiting cannot help');
      assert.equal(header(refused, 'ratelimit-limit'), String(LIMIT));
      assert.equal(header(refused, 'ratelimit-remaining'), String(LIMIT));
      assert.match(refused.body.detail, new RegExp(`${2 * LIMIT} events, more than the ${LIMIT} this customer's rate limit admits in one request \\(its burst\\); it can never be accepted`));
      assert.deepEqual(await inboxEvents(server, customer.apiKey), []);
      assert.equal((await sendBatch(LIMIT)).status, 202, 'the refused batch took no tokens');
    });

    it(`a batch of exactly the burst (${LIMIT}) on an empty bucket is 429 with a Retry-After that works`, async () => {
      await exhaust();
      const refused = await sendBatch(LIMIT);
      assertProblem(refused, 429, 'rate_limited');
      const wait = wholeSeconds(header(refused, 'retry-after'));
      assert.ok(wait >= 1);
      await sleep(wait * 1000);
      assert.equal((await sendBatch(LIMIT)).status, 202, `after Retry-After ${wait} s the batch passes`);
    });

    it('requests refused before the limiter (400, 415) spend no tokens', async () => {
      for (let n = 0; n < 2 * LIMIT; n++) assertProblem(await post(server, '/api/v1/events', customer.apiKey, { payload: 'invalid' }), 400, 'invalid_request');
      for (let n = 0; n < 2 * LIMIT; n++) {
        const response = await server.request('POST', '/api/v1/events', { apiKey: customer.apiKey, body: '{"payload":{}}', headers: { 'content-type': 'text/plain' } });
        assert.equal(response.status, 415);
      }
      assert.equal((await sendBatch(LIMIT)).status, 202);
    });

    it('a replay counts against the limit too (rate limiting comes before idempotency)', async () => {
      const headers = { 'idempotency-key': 'rate-limited-replay' };
      const first = await post(server, '/api/v1/events', customer.apiKey, { payload: {} }, headers);
      assert.equal(first.status, 202);
      for (let n = 1; n < LIMIT; n++) assert.equal((await post(server, '/api/v1/events', customer.apiKey, { payload: {} }, headers)).headers.get('idempotent-replayed'), 'true');
      assertProblem(await post(server, '/api/v1/events', customer.apiKey, { payload: {} }, headers), 429, 'rate_limited');
      assert.equal((await inboxEvents(server, customer.apiKey)).length, 1);
    });
  });

  describe('security', () => {
    it("one customer exhausting its bucket leaves another's untouched", async () => {
      const b = await server.createCustomer();
      await exhaust();
      assertProblem(await sendBatch(LIMIT), 429, 'rate_limited');
      const bBurst = await sendBatch(LIMIT, b);
      assert.equal(bBurst.status, 202, bBurst.text);
      assert.equal(header(bBurst, 'ratelimit-remaining'), '0');
    });

    it("a customer's raised limit is its own: others keep the default", async () => {
      const b = await server.createCustomer();
      await patchCustomer(server, customer.customerId, { rate_limit_per_second: 1000 });
      const response = await sendBatch(2 * LIMIT, b);
      assertProblem(response, 413, 'payload_too_large', { max_events: LIMIT });
      assert.equal(header(response, 'ratelimit-limit'), String(LIMIT));
    });

    it('anonymous requests do not drain anyone’s bucket', async () => {
      for (let n = 0; n < 2 * LIMIT; n++) {
        assert.equal((await server.request('POST', '/api/v1/events', { json: { payload: {} } })).status, 401);
      }
      assert.equal((await sendBatch(LIMIT)).status, 202);
    });
  });
});
