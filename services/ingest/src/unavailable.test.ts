import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DATABASE_FILE } from '@triggers/core/testing';
import { startTestServer, type TestServer } from '@triggers/all-in-one/test-server';
import type { TestResponse } from '@triggers/core/testing';
import { assertNothingInternal, assertProblem, inboxEvents, post, type CustomerCredentials as Customer } from '@triggers/testkit';

/**
 * 503 unavailable: "a backend is down; nothing was accepted".
 *
 * How the backend is made to fail: the test opens the server's own `triggers.db` with a second,
 * real better-sqlite3 connection (as another process would) and installs a trigger that aborts one
 * chosen write of the outbox transaction. To the server this is indistinguishable from a write
 * failing on a broken disk, it fails at once (holding a write lock instead would block the whole
 * event loop for the 5 s busy_timeout), and dropping the trigger heals the database. Closing the
 * backends under the running server is not an option: its queue consumers spin on a closed queue.
 */
describe('503 unavailable on POST /api/v1/events and /api/v1/events/batch', () => {
  let server: TestServer;
  let db: Database.Database;
  before(async () => {
    // Keys are cached long enough that a customer's requests get past authentication
    // (a metadata read) and reach the failing write.
    server = await startTestServer({ TRIGGERS_API_KEY_CACHE_MS: '5000' });
    db = new Database(path.join(server.dataDir, DATABASE_FILE));
    db.pragma('busy_timeout = 5000');
  });
  after(async () => {
    db?.close();
    await server?.close();
  });

  let customer: Customer;
  beforeEach(async () => {
    customer = await server.createCustomer();
    // Warms the key cache: from here on this customer's requests never read the metadata store.
    assert.equal((await server.request('GET', '/api/v1/inbox', { apiKey: customer.apiKey })).status, 200);
  });
  afterEach(() => {
    for (const { name } of db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'test_fail_%'").all()) {
      db.exec(`DROP TRIGGER ${name}`);
    }
  });

  /** Makes every matching write abort, as a failing disk would, until the test ends. */
  const failWrites = (name: string, on: string, when: string) =>
    db.exec(`CREATE TRIGGER test_fail_${name} ${on} WHEN ${when} BEGIN SELECT RAISE(ABORT, 'injected fault at /var/lib/triggers/${DATABASE_FILE}'); END`);
  const forThisCustomer = () => `json_extract(NEW.body, '$.customerId') = '${customer.customerId}'`;
  const storedRows = () => ({
    events: db.prepare('SELECT COUNT(*) AS n FROM events WHERE customer_id = ?').pluck().get(customer.customerId),
    messages: db.prepare("SELECT COUNT(*) AS n FROM queue_messages WHERE topic = 'events' AND json_extract(body, '$.customerId') = ?").pluck().get(customer.customerId),
    keys: db.prepare('SELECT COUNT(*) AS n FROM idempotency_keys WHERE customer_id = ?').pluck().get(customer.customerId),
  });
  const assertUnavailable = (response: TestResponse) => {
    assertProblem(response, 503, 'unavailable');
    assert.match(response.body.detail, /nothing was accepted/);
    assertNothingInternal(response.text, 'injected', customer.apiKey, customer.customerId);
    assert.equal(response.headers.get('idempotent-replayed'), null);
  };

  describe('happy', () => {
    it('after the backend heals, requests are accepted again', async () => {
      failWrites('everything', 'BEFORE INSERT ON events', `NEW.customer_id = '${customer.customerId}'`);
      assertUnavailable(await post(server, '/api/v1/events', customer.apiKey, { payload: { n: 1 } }));
      db.exec('DROP TRIGGER test_fail_everything');
      const accepted = await post(server, '/api/v1/events', customer.apiKey, { payload: { n: 2 } });
      assert.equal(accepted.status, 202, accepted.text);
      assert.deepEqual((await inboxEvents(server, customer.apiKey)).map((e) => e.payload), [{ n: 2 }]);
    });
  });

  describe('error', () => {
    it('an event whose enqueue fails is not stored either (the outbox is one transaction)', async () => {
      failWrites('enqueue', 'BEFORE INSERT ON queue_messages', `NEW.topic = 'events' AND ${forThisCustomer()}`);
      const response = await post(server, '/api/v1/events', customer.apiKey, { payload: { event_type: 'lost?' } }, { 'x-request-id': 'down-1' });

      assertUnavailable(response);
      assert.equal(response.headers.get('x-request-id'), 'down-1');
      assert.deepEqual(storedRows(), { events: 0, messages: 0, keys: 0 });
      assert.deepEqual(await inboxEvents(server, customer.apiKey), []);
    });

    it('a batch whose third event fails to store keeps none of the first two', async () => {
      failWrites('third_event', 'BEFORE INSERT ON events', `json_extract(NEW.payload, '$.n') = 3 AND NEW.customer_id = '${customer.customerId}'`);
      const events = [1, 2, 3, 4].map((n) => ({ payload: { n } }));
      assertUnavailable(await post(server, '/api/v1/events/batch', customer.apiKey, { events }));
      assert.deepEqual(storedRows(), { events: 0, messages: 0, keys: 0 });
      assert.deepEqual(await inboxEvents(server, customer.apiKey), []);
    });

    it('when the idempotency record cannot be completed, the events written before it are undone and the key is freed', async () => {
      failWrites('complete_key', 'BEFORE UPDATE ON idempotency_keys', `NEW.state = 'completed' AND NEW.customer_id = '${customer.customerId}'`);
      const body = { payload: { event_type: 'order.created', order_id: 'o-503' } };
      const headers = { 'idempotency-key': 'order-o-503' };
      assertUnavailable(await post(server, '/api/v1/events', customer.apiKey, body, headers));
      assert.deepEqual(storedRows(), { events: 0, messages: 0, keys: 0 }, 'no event, no message, no key left in progress');

      // Healed: the client's retry with the same key is a first attempt, not a 409 or a replay.
      db.exec('DROP TRIGGER test_fail_complete_key');
      const retried = await post(server, '/api/v1/events', customer.apiKey, body, headers);
      assert.equal(retried.status, 202, retried.text);
      assert.equal(retried.headers.get('idempotent-replayed'), null);
      // (Its queue message may already be consumed by the matcher.)
      assert.deepEqual({ ...storedRows(), messages: undefined }, { events: 1, messages: undefined, keys: 1 });
      assert.deepEqual((await inboxEvents(server, customer.apiKey)).map((e) => e.event_id), [retried.body.event_id]);
    });

    it('a failed idempotency claim is 503 and stores nothing', async () => {
      failWrites('claim', 'BEFORE INSERT ON idempotency_keys', `NEW.customer_id = '${customer.customerId}'`);
      assertUnavailable(await post(server, '/api/v1/events', customer.apiKey, { payload: {} }, { 'idempotency-key': 'claim-fails' }));
      assert.deepEqual(storedRows(), { events: 0, messages: 0, keys: 0 });
    });
  });

  describe('security', () => {
    it('a key that cannot be checked is 503, never 401 and never let through', async () => {
      const uncached = await server.createCustomer();
      db.exec('ALTER TABLE api_keys RENAME TO api_keys_unreachable');
      try {
        const response = await post(server, '/api/v1/events', uncached.apiKey, { payload: {} });
        assertUnavailable(response);
        assert.equal(response.headers.get('www-authenticate'), null);
      } finally {
        db.exec('ALTER TABLE api_keys_unreachable RENAME TO api_keys');
      }
      assert.deepEqual(await inboxEvents(server, uncached.apiKey), []);
    });
  });

});

describe('503 unavailable, seen after a restart on the same data folder', () => {
  it('a server restarted on the folder finds no trace of the failed requests', async () => {
    const first = await startTestServer({ TRIGGERS_API_KEY_CACHE_MS: '5000' });
    const dataDir = first.dataDir;
    let second: TestServer | undefined;
    try {
      const customer = await first.createCustomer();
      const db = new Database(path.join(dataDir, DATABASE_FILE));
      try {
        db.exec(`CREATE TRIGGER test_fail_enqueue BEFORE INSERT ON queue_messages WHEN NEW.topic = 'events' BEGIN SELECT RAISE(ABORT, 'injected'); END`);
        assertProblem(await post(first, '/api/v1/events', customer.apiKey, { payload: { n: 1 } }, { 'idempotency-key': 'restart-1' }), 503, 'unavailable');
        assertProblem(await post(first, '/api/v1/events/batch', customer.apiKey, { events: [{ payload: { n: 2 } }, { payload: { n: 3 } }] }), 503, 'unavailable');
        db.exec('DROP TRIGGER test_fail_enqueue');
      } finally {
        db.close();
      }
      await first.server.close();

      second = await startTestServer({ TRIGGERS_DATA_DIR: dataDir });
      assert.deepEqual(await inboxEvents(second, customer.apiKey), []);
      const retried = await post(second, '/api/v1/events', customer.apiKey, { payload: { n: 1 } }, { 'idempotency-key': 'restart-1' });
      assert.equal(retried.status, 202, retried.text);
      assert.equal(retried.headers.get('idempotent-replayed'), null);
      assert.deepEqual((await inboxEvents(second, customer.apiKey)).map((e) => e.event_id), [retried.body.event_id]);
    } finally {
      await second?.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
