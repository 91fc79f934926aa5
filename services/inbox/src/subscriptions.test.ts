import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '@triggers/all-in-one/test-server';
import { RFC3339_MILLIS, WHSEC, assertProblem, createSubscription, neverMatching, sleep } from '@triggers/testkit';

const HOOK = 'https://hooks.example.com/triggers';

describe('Subscriptions API', () => {
  let server: TestServer;
  let apiKey: string;
  let customerId: string;
  before(async () => {
    server = await startTestServer();
    ({ apiKey, customerId } = await server.createCustomer());
  });
  after(async () => {
    await server?.close();
  });

  const create = (json: unknown) => server.request('POST', '/api/v1/subscriptions', { apiKey, json });
  const get = (id: string) => server.request('GET', `/api/v1/subscriptions/${id}`, { apiKey });
  const patch = (id: string, json: unknown) => server.request('PATCH', `/api/v1/subscriptions/${id}`, { apiKey, json });
  const remove = (id: string) => server.request('DELETE', `/api/v1/subscriptions/${id}`, { apiKey });
  const rotate = (id: string) => server.request('POST', `/api/v1/subscriptions/${id}/rotate-secret`, { apiKey });
  const storedRow = (id: string) => server.server.ctx.backends.metadataStore.getSubscription(customerId, id);

  describe('POST /api/v1/subscriptions', () => {
    it('201 with the subscription and its whsec_ secret', async () => {
      const selector = { type: 'jsonpath', expression: "$.event_type == 'order.created' && $.amount > 100" };
      const response = await create({ event_selector: selector, webhook_url: HOOK, description: 'Big orders' });
      assert.equal(response.status, 201, response.text);
      const body = response.body;
      assert.deepEqual(Object.keys(body).sort(), [
        'batch', 'created_at', 'customer_id', 'description', 'disabled_reason', 'event_selector', 'ordering', 'retry', 'secret', 'status', 'timeout_ms', 'updated_at', 'webhook_url', 'workflow_id',
      ]);
      assert.match(body.workflow_id, /^[0-9a-f-]{36}$/);
      assert.equal(body.customer_id, customerId);
      assert.deepEqual(body.event_selector, selector);
      assert.equal(body.webhook_url, HOOK);
      assert.equal(body.description, 'Big orders');
      assert.equal(body.status, 'active');
      assert.equal(body.disabled_reason, null);
      assert.equal(body.batch, null);
      assert.equal(body.retry, null, 'no retry policy of its own: the settings\' one');
      assert.equal(body.timeout_ms, null);
      assert.match(body.secret, WHSEC);
      assert.match(body.created_at, RFC3339_MILLIS);
      assert.equal(body.updated_at, body.created_at);
      // What was stored is what was answered.
      const row = await storedRow(body.workflow_id);
      assert.equal(row?.secret, body.secret);
      assert.deepEqual(row?.eventSelector, selector);
    });

    it('accepts every selector kind, nested, and a batch setting', async () => {
      const selector = {
        type: 'all',
        selectors: [
          { type: 'event_type', value: 'order.*' },
          { type: 'any', selectors: [{ type: 'custom', function: { field: 'customer.tier', operator: 'greater_than', value: 100 } }, { type: 'custom', function: { field: 'vip', operator: 'exists' } }] },
          { type: 'custom', function: { field: 'sku', operator: 'matches', value: '^A[0-9]+$' } },
        ],
      };
      const body = await createSubscription(server, apiKey, { event_selector: selector, batch: { max_events: 50, window_ms: 2000 } });
      assert.deepEqual(body.event_selector, selector);
      assert.deepEqual(body.batch, { max_events: 50, window_ms: 2000 });
      assert.deepEqual((await storedRow(body.workflow_id))?.batching, { maxEvents: 50, windowMs: 2000 });
    });

    it('gives every subscription its own secret', async () => {
      const a = await createSubscription(server, apiKey);
      const b = await createSubscription(server, apiKey);
      assert.notEqual(a.secret, b.secret);
      assert.notEqual(a.workflow_id, b.workflow_id);
    });

    it('allows a loopback receiver in the dev default policy', async () => {
      const body = await createSubscription(server, apiKey, { webhook_url: 'http://127.0.0.1:9/hook' });
      assert.equal(body.webhook_url, 'http://127.0.0.1:9/hook');
    });

    const badSelectors: [string, unknown, RegExp][] = [
      ['an unknown type', { type: 'regex', value: 'x' }, /type/],
      ['event_type without value', { type: 'event_type' }, /value/],
      ['a selector that is not an object', 'order.created', /./],
      ['JSONPath that does not parse', { type: 'jsonpath', expression: "$.amount >> 'x" }, /./],
      ['an unknown custom operator', { type: 'custom', function: { field: 'a', operator: 'resembles', value: 1 } }, /operator/],
      ['a back-reference in matches', { type: 'custom', function: { field: 'a', operator: 'matches', value: '(a)\\1' } }, /back-reference/],
      ['a bad selector nested in all', { type: 'all', selectors: [{ type: 'event_type', value: 'a' }, { type: 'event_type', value: 5 }] }, /selectors\[1\]/],
      ['an unknown key in a selector', { type: 'event_type', value: 'a', valu: 'b' }, /valu/],
    ];
    for (const [what, selector, detail] of badSelectors) {
      it(`400 invalid_selector: ${what}, saying where`, async () => {
        const response = await create({ event_selector: selector, webhook_url: HOOK });
        assertProblem(response, 400, 'invalid_selector');
        assert.match(response.body.detail, detail);
      });
    }

    const badUrls: [string, string][] = [
      ['not a URL', 'not a url'],
      ['not http(s)', 'ftp://hooks.example.com/x'],
      ['a private address', 'http://10.0.0.1/hook'],
      ['the metadata address', 'http://169.254.169.254/latest/meta-data'],
      ['a link-local address', 'http://[fe80::1]/hook'],
      ['credentials in the URL', 'https://user:pass@hooks.example.com/x'],
      ['a private address written in hex', 'http://0xa000001/hook'],
    ];
    for (const [what, url] of badUrls) {
      it(`400 invalid_webhook_url: ${what}, with the reason`, async () => {
        const response = await create({ event_selector: neverMatching, webhook_url: url });
        assertProblem(response, 400, 'invalid_webhook_url');
        assert.match(response.body.detail, /^webhook_url:? \S+/);
      });
    }

    const badBodies: [string, unknown][] = [
      ['no webhook_url', { event_selector: neverMatching }],
      ['no event_selector', { webhook_url: HOOK }],
      ['an unknown field', { event_selector: neverMatching, webhook_url: HOOK, colour: 'blue' }],
      ['a secret chosen by the client', { event_selector: neverMatching, webhook_url: HOOK, secret: 'whsec_AAAA' }],
      ['a description that is not a string', { event_selector: neverMatching, webhook_url: HOOK, description: 42 }],
      ['batch.max_events 0', { event_selector: neverMatching, webhook_url: HOOK, batch: { max_events: 0, window_ms: 10 } }],
      ['batch.max_events 1001', { event_selector: neverMatching, webhook_url: HOOK, batch: { max_events: 1001, window_ms: 10 } }],
      ['batch.window_ms 60001', { event_selector: neverMatching, webhook_url: HOOK, batch: { max_events: 1, window_ms: 60_001 } }],
      ['batch.window_ms 0', { event_selector: neverMatching, webhook_url: HOOK, batch: { max_events: 1, window_ms: 0 } }],
      ['a batch with an unknown field', { event_selector: neverMatching, webhook_url: HOOK, batch: { max_events: 1, window_ms: 1, size: 2 } }],
      ['an array body', [{ event_selector: neverMatching, webhook_url: HOOK }]],
    ];
    for (const [what, json] of badBodies) {
      it(`400 invalid_request: ${what}`, async () => {
        assertProblem(await create(json), 400, 'invalid_request');
      });
    }

    it('stores a retry policy and timeout, answers them, and PATCH replaces or clears them', async () => {
      const created = await createSubscription(server, apiKey, { retry: { max_attempts: 3, schedule_ms: [1000, 60_000], max_delay_ms: 3_600_000 }, timeout_ms: 5000 });
      assert.deepEqual(created.retry, { max_attempts: 3, schedule_ms: [1000, 60_000], max_delay_ms: 3_600_000 });
      assert.equal(created.timeout_ms, 5000);
      const row = await storedRow(created.workflow_id);
      assert.deepEqual(row?.retryPolicy, { maxAttempts: 3, scheduleMs: [1000, 60_000], maxDelayMs: 3_600_000 });
      assert.equal(row?.timeoutMs, 5000);
      assert.deepEqual((await get(created.workflow_id)).body.retry, created.retry);

      const changed = await patch(created.workflow_id, { retry: { base_ms: 500 } });
      assert.equal(changed.status, 200, changed.text);
      assert.deepEqual(changed.body.retry, { base_ms: 500 }, 'the whole policy is replaced');
      assert.equal(changed.body.timeout_ms, 5000, 'an absent field stays');
      const cleared = await patch(created.workflow_id, { retry: null, timeout_ms: null });
      assert.equal(cleared.body.retry, null);
      assert.equal(cleared.body.timeout_ms, null);
      assert.equal((await storedRow(created.workflow_id))?.retryPolicy, null);
    });

    it('accepts the retry limits: 1 and 20 attempts, delays 100 ms and 24 h, 19 schedule entries, timeouts 1 s and 60 s', async () => {
      await createSubscription(server, apiKey, { retry: { max_attempts: 1, base_ms: 100, max_delay_ms: 86_400_000 }, timeout_ms: 1000 });
      await createSubscription(server, apiKey, { retry: { max_attempts: 20, schedule_ms: Array.from({ length: 19 }, () => 86_400_000) }, timeout_ms: 60_000 });
      await createSubscription(server, apiKey, { retry: {} });
    });

    const badRetries: [string, unknown, RegExp][] = [
      ['retry.max_attempts 0', { retry: { max_attempts: 0 } }, /retry\.max_attempts/],
      ['retry.max_attempts 21', { retry: { max_attempts: 21 } }, /retry\.max_attempts/],
      ['retry.max_attempts 2.5', { retry: { max_attempts: 2.5 } }, /retry\.max_attempts/],
      ['retry.base_ms 99', { retry: { base_ms: 99 } }, /retry\.base_ms/],
      ['retry.max_delay_ms over 24 h', { retry: { max_delay_ms: 86_400_001 } }, /retry\.max_delay_ms/],
      ['an empty retry.schedule_ms', { retry: { schedule_ms: [] } }, /retry\.schedule_ms/],
      ['20 retry.schedule_ms entries', { retry: { schedule_ms: Array.from({ length: 20 }, () => 1000) } }, /retry\.schedule_ms/],
      ['a retry.schedule_ms entry of 50 ms', { retry: { schedule_ms: [1000, 50] } }, /retry\.schedule_ms/],
      ['both schedule_ms and base_ms', { retry: { schedule_ms: [1000], base_ms: 1000 } }, /retry.*schedule_ms or base_ms, not both/],
      ['an unknown retry field', { retry: { jitter: 0 } }, /retry/],
      ['timeout_ms 999', { timeout_ms: 999 }, /timeout_ms/],
      ['timeout_ms 60001', { timeout_ms: 60_001 }, /timeout_ms/],
    ];
    for (const [what, fields, detail] of badRetries) {
      it(`400 invalid_request naming the field, nothing stored: ${what}`, async () => {
        const before = (await server.request('GET', '/api/v1/subscriptions?limit=1000', { apiKey })).body.subscriptions.length;
        const response = await create({ event_selector: neverMatching, webhook_url: HOOK, ...(fields as object) });
        assertProblem(response, 400, 'invalid_request');
        assert.match(response.body.detail, detail);
        assert.equal((await server.request('GET', '/api/v1/subscriptions?limit=1000', { apiKey })).body.subscriptions.length, before);
      });
    }

    it('PATCH with a bad retry policy is 400 and changes nothing', async () => {
      const created = await createSubscription(server, apiKey, { retry: { max_attempts: 2 } });
      const response = await patch(created.workflow_id, { retry: { max_attempts: 99 }, description: 'changed' });
      assertProblem(response, 400, 'invalid_request');
      assert.match(response.body.detail, /retry\.max_attempts/);
      const row = await storedRow(created.workflow_id);
      assert.deepEqual(row?.retryPolicy, { maxAttempts: 2 });
      assert.equal(row?.description, null);
    });

    it('accepts batch bounds 1 and 1000 / 1 and 60000', async () => {
      await createSubscription(server, apiKey, { batch: { max_events: 1, window_ms: 1 } });
      await createSubscription(server, apiKey, { batch: { max_events: 1000, window_ms: 60_000 } });
    });

    it('400 invalid_json and 415 unsupported_media_type', async () => {
      assertProblem(await server.request('POST', '/api/v1/subscriptions', { apiKey, body: '{"event_selector":', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json');
      assertProblem(await server.request('POST', '/api/v1/subscriptions', { apiKey, body: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media_type');
      assertProblem(await server.request('POST', '/api/v1/subscriptions', { apiKey, body: JSON.stringify({ event_selector: neverMatching, webhook_url: HOOK }) }), 415, 'unsupported_media_type');
    });

    it('stores nothing when refused', async () => {
      const { apiKey: otherKey } = await server.createCustomer();
      await server.request('POST', '/api/v1/subscriptions', { apiKey: otherKey, json: { event_selector: { type: 'nope' }, webhook_url: HOOK } });
      await server.request('POST', '/api/v1/subscriptions', { apiKey: otherKey, json: { event_selector: neverMatching, webhook_url: 'http://10.1.1.1/' } });
      await server.request('POST', '/api/v1/subscriptions', { apiKey: otherKey, json: { event_selector: neverMatching, webhook_url: HOOK, extra: 1 } });
      const list = await server.request('GET', '/api/v1/subscriptions', { apiKey: otherKey });
      assert.deepEqual(list.body.subscriptions, []);
    });
  });

  describe('GET /api/v1/subscriptions', () => {
    it('pages newest first without secrets; following cursor visits each once', async () => {
      const { apiKey: key } = await server.createCustomer();
      const made: string[] = [];
      for (let n = 0; n < 5; n++) {
        made.push((await createSubscription(server, key, { description: `n${n}` })).workflow_id);
        await sleep(2);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = `?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const response = await server.request('GET', `/api/v1/subscriptions${query}`, { apiKey: key });
        assert.equal(response.status, 200, response.text);
        assert.deepEqual(Object.keys(response.body).sort(), ['cursor', 'has_more', 'subscriptions']);
        assert.equal(response.body.has_more, response.body.cursor !== null);
        for (const s of response.body.subscriptions) assert.equal('secret' in s, false);
        seen.push(...response.body.subscriptions.map((s: { workflow_id: string }) => s.workflow_id));
        cursor = response.body.cursor;
        pages++;
      } while (cursor !== null);
      assert.equal(pages, 3);
      assert.deepEqual(seen, [...made].reverse());

      const all = await server.request('GET', '/api/v1/subscriptions', { apiKey: key });
      assert.equal(all.body.subscriptions.length, 5);
      assert.equal(all.body.has_more, false);
      assert.equal(all.body.cursor, null);
    });

    for (const [what, query] of [
      ['limit 0', '?limit=0'],
      ['limit 1001', '?limit=1001'],
      ['an unknown parameter', '?status=active'],
      ['a bad cursor', '?cursor=garbage!'],
    ] as const) {
      it(`400 invalid_request: ${what}`, async () => {
        assertProblem(await server.request('GET', `/api/v1/subscriptions${query}`, { apiKey }), 400, 'invalid_request');
      });
    }
  });

  describe('GET /api/v1/subscriptions/{workflow_id}', () => {
    it('200 with the subscription, without its secret', async () => {
      const created = await createSubscription(server, apiKey, { description: 'read me' });
      const response = await get(created.workflow_id);
      assert.equal(response.status, 200);
      const { secret, ...withoutSecret } = created;
      assert.match(secret, WHSEC);
      assert.deepEqual(response.body, withoutSecret);
      assert.equal(response.text.includes(secret), false);
    });

    it('404 not_found for unknown and malformed ids, all alike', async () => {
      const answers = [];
      for (const id of [randomUUID(), 'nope', '1']) {
        const response = await get(id);
        assertProblem(response, 404, 'not_found');
        answers.push(response.body);
      }
      for (const answer of answers) assert.deepEqual(answer, answers[0]);
    });
  });

  describe('PATCH /api/v1/subscriptions/{workflow_id}', () => {
    it('changes each field and answers the subscription without its secret', async () => {
      const created = await createSubscription(server, apiKey, { description: 'before', batch: { max_events: 5, window_ms: 100 } });
      await sleep(2);
      const selector = { type: 'custom', function: { field: 'amount', operator: 'greater_than_or_equal', value: 10 } };
      const response = await patch(created.workflow_id, {
        event_selector: selector,
        webhook_url: 'https://other.example.com/hook',
        description: 'after',
        batch: { max_events: 10, window_ms: 500 },
      });
      assert.equal(response.status, 200, response.text);
      assert.equal('secret' in response.body, false);
      assert.deepEqual(response.body.event_selector, selector);
      assert.equal(response.body.webhook_url, 'https://other.example.com/hook');
      assert.equal(response.body.description, 'after');
      assert.deepEqual(response.body.batch, { max_events: 10, window_ms: 500 });
      assert.equal(response.body.created_at, created.created_at);
      assert.ok(response.body.updated_at > created.updated_at);
      assert.deepEqual((await get(created.workflow_id)).body, response.body);
      assert.equal((await storedRow(created.workflow_id))?.secret, created.secret, 'the secret is untouched');
    });

    it('leaves absent fields alone, and null clears description and batch', async () => {
      const created = await createSubscription(server, apiKey, { description: 'keep', batch: { max_events: 5, window_ms: 100 } });
      const kept = (await patch(created.workflow_id, { webhook_url: 'https://kept.example.com/' })).body;
      assert.equal(kept.description, 'keep');
      assert.deepEqual(kept.batch, { max_events: 5, window_ms: 100 });
      assert.deepEqual(kept.event_selector, created.event_selector);
      const cleared = (await patch(created.workflow_id, { description: null, batch: null })).body;
      assert.equal(cleared.description, null);
      assert.equal(cleared.batch, null);
      assert.equal(cleared.webhook_url, 'https://kept.example.com/');
    });

    it('disables and re-enables; re-enabling clears disabled_reason', async () => {
      const created = await createSubscription(server, apiKey);
      const disabled = await patch(created.workflow_id, { status: 'disabled' });
      assert.equal(disabled.status, 200);
      assert.equal(disabled.body.status, 'disabled');
      // As the deliverer does on a 410 Gone.
      await server.server.ctx.backends.metadataStore.updateSubscription(customerId, created.workflow_id, {
        status: 'disabled',
        disabledReason: 'Webhook answered 410 Gone',
        updatedAt: Date.now(),
      });
      const read = (await get(created.workflow_id)).body;
      assert.equal(read.status, 'disabled');
      assert.equal(read.disabled_reason, 'Webhook answered 410 Gone');
      const enabled = await patch(created.workflow_id, { status: 'active' });
      assert.equal(enabled.body.status, 'active');
      assert.equal(enabled.body.disabled_reason, null);
      assert.equal((await storedRow(created.workflow_id))?.disabledReason, null);
    });

    it('re-validates the selector and the URL, and changes nothing when refused', async () => {
      const created = await createSubscription(server, apiKey);
      const { secret: _secret, ...before } = created;
      const badSelector = await patch(created.workflow_id, { event_selector: { type: 'jsonpath', expression: '$[' } });
      assertProblem(badSelector, 400, 'invalid_selector');
      assertProblem(await patch(created.workflow_id, { event_selector: null }), 400, 'invalid_selector');
      const badUrl = await patch(created.workflow_id, { webhook_url: 'http://192.168.1.1/' });
      assertProblem(badUrl, 400, 'invalid_webhook_url');
      assertProblem(await patch(created.workflow_id, { webhook_url: 'gopher://x/' }), 400, 'invalid_webhook_url');
      // A valid change sent with an invalid one is not applied either.
      assertProblem(await patch(created.workflow_id, { description: 'half', webhook_url: 'http://10.0.0.2/' }), 400, 'invalid_webhook_url');
      assert.deepEqual((await get(created.workflow_id)).body, before);
    });

    for (const [what, json] of [
      ['an empty body', {}],
      ['an unknown field', { colour: 'blue' }],
      ['an unknown status', { status: 'paused' }],
      ['the secret', { secret: 'whsec_AAAA' }],
      ['a bad batch', { batch: { max_events: 0, window_ms: 1 } }],
      ['workflow_id', { workflow_id: randomUUID() }],
    ] as const) {
      it(`400 invalid_request: ${what}`, async () => {
        const created = await createSubscription(server, apiKey);
        assertProblem(await patch(created.workflow_id, json), 400, 'invalid_request');
      });
    }

    it('404 not_found for an unknown or malformed id', async () => {
      assertProblem(await patch(randomUUID(), { description: 'x' }), 404, 'not_found');
      assertProblem(await patch('nope', { description: 'x' }), 404, 'not_found');
    });

    it('400 invalid_json and 415 unsupported_media_type', async () => {
      const created = await createSubscription(server, apiKey);
      const path = `/api/v1/subscriptions/${created.workflow_id}`;
      assertProblem(await server.request('PATCH', path, { apiKey, body: '{', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json');
      assertProblem(await server.request('PATCH', path, { apiKey, body: 'status=disabled', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type');
    });
  });

  describe('DELETE /api/v1/subscriptions/{workflow_id}', () => {
    it('204, after which it is gone', async () => {
      const created = await createSubscription(server, apiKey);
      const response = await remove(created.workflow_id);
      assert.equal(response.status, 204);
      assert.equal(response.text, '');
      assertProblem(await get(created.workflow_id), 404, 'not_found');
      assertProblem(await remove(created.workflow_id), 404, 'not_found');
      assert.equal(await storedRow(created.workflow_id), null);
    });

    it('404 not_found for an unknown or malformed id', async () => {
      assertProblem(await remove(randomUUID()), 404, 'not_found');
      assertProblem(await remove('nope'), 404, 'not_found');
    });
  });

  describe('POST /api/v1/subscriptions/{workflow_id}/rotate-secret', () => {
    it('200 with a new secret; the previous one keeps signing for 24 h', async () => {
      const created = await createSubscription(server, apiKey);
      const before = Date.now();
      const response = await rotate(created.workflow_id);
      assert.equal(response.status, 200, response.text);
      assert.equal(response.body.workflow_id, created.workflow_id);
      assert.match(response.body.secret, WHSEC);
      assert.notEqual(response.body.secret, created.secret);
      const row = await storedRow(created.workflow_id);
      assert.equal(row?.secret, response.body.secret);
      assert.equal(row?.previousSecret, created.secret);
      const day = 24 * 3600_000;
      assert.ok(row!.previousSecretExpiresAt! >= before + day && row!.previousSecretExpiresAt! <= Date.now() + day);
      assert.equal(response.body.previous_secret_expires_at, new Date(row!.previousSecretExpiresAt!).toISOString());
      // The secret shows nowhere else.
      const read = await get(created.workflow_id);
      assert.equal(read.text.includes(response.body.secret), false);
      assert.equal(read.text.includes(created.secret), false);
    });

    it('a second rotation keeps only the secret it replaces', async () => {
      const created = await createSubscription(server, apiKey);
      const first = (await rotate(created.workflow_id)).body.secret;
      const second = (await rotate(created.workflow_id)).body.secret;
      const row = await storedRow(created.workflow_id);
      assert.equal(row?.secret, second);
      assert.equal(row?.previousSecret, first);
    });

    it('404 not_found for an unknown or malformed id', async () => {
      assertProblem(await rotate(randomUUID()), 404, 'not_found');
      assertProblem(await rotate('nope'), 404, 'not_found');
    });
  });
});
