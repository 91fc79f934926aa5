import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '@triggers/all-in-one/test-server';
import { startWebhookReceiver, assertProblem, waitUntil, type WebhookReceiver } from '@triggers/testkit';
import type { DemoAccount } from './demo-customer.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const calm = { document_type: 'Invoice', priority: 'low', description: 'Please update the billing address when convenient.', customer_email: 'calm@acme.test' };
const urgent = { document_type: 'Contract', priority: 'high', description: 'Renewal terms need a signature today.', customer_email: 'legal@acme.test' };

const TICKET = [
  'SUP-4711: Checkout fails for EU customers',
  'Priority: Highest',
  'Reporter: Jane Doe <jane@acme.test>',
  'Description:',
  'Every EU card payment is declined since the 10:00 deploy.',
].join('\n');

describe('Demo back end (/demo/*)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.close();
  });

  const demo = (method: string, path: string, json?: unknown) => server.request(method, path, json === undefined ? {} : { json });

  async function waitForStatus(eventId: string, status: string): Promise<any> {
    let event: any;
    await waitUntil(
      async () => {
        event = (await demo('GET', `/demo/events/${eventId}`)).body;
        return event?.status === status;
      },
      { timeoutMs: 10_000, what: `event ${eventId} to be ${status} (last: ${JSON.stringify(event)})` },
    );
    return event;
  }

  it('creates the demo customer on first use, once, and never shows its API key', async () => {
    const first = await demo('GET', '/demo/status');
    assert.equal(first.status, 200, first.text);
    assert.match(first.body.customer_id, UUID);
    assert.deepEqual(first.body.mail, { provider: 'outbox', from: 'Triggers Demo <onboarding@resend.dev>' });
    assert.match(first.body.webhook_sink.url, /^http:\/\/127\.0\.0\.1:\d+\/demo\/webhook-sink$/);
    assert.deepEqual(first.body.urgent_keywords, ['angry', 'urgent', 'critical', 'escalate', 'emergency']);
    assert.doesNotMatch(first.text, /sk_(test|live)_/);
    const again = await demo('GET', '/demo/status');
    assert.equal(again.body.customer_id, first.body.customer_id);
  });

  it('submits a high-priority event through the public API, emails the customer, and delivers it to the built-in sink', async () => {
    const response = await demo('POST', '/demo/trigger', urgent);
    assert.equal(response.status, 200, response.text);
    assert.equal(response.body.triggered, true);
    assert.equal(response.body.reason, 'Priority is high');
    assert.match(response.body.event_id, UUID);
    assert.equal(response.body.payload.event_type, 'document.escalated');
    assert.equal(response.body.email.status, 'sent');
    assert.equal(response.body.email.provider, 'outbox');
    assert.equal(response.body.email.to, 'legal@acme.test');

    const event = await waitForStatus(response.body.event_id, 'delivered');
    assert.equal(event.payload.document_type, 'Contract');
    assert.equal(event.attempts[0].status, 'succeeded');
    assert.equal(event.attempts[0].status_code, 204);

    const sink = (await demo('GET', '/demo/webhook-sink')).body;
    const receipt = sink.receipts.find((r: { event_ids: string[] }) => r.event_ids.includes(response.body.event_id));
    assert.ok(receipt, JSON.stringify(sink));
    assert.equal(receipt.signature_verified, true);

    const outbox = (await demo('GET', '/demo/outbox')).body;
    assert.equal(outbox.provider, 'outbox');
    const mail = outbox.messages.find((m: { text: string }) => m.text.includes(response.body.event_id));
    assert.ok(mail);
    assert.equal(mail.to, 'legal@acme.test');
    assert.match(mail.subject, /High-priority Contract escalated/);
  });

  it('triggers on an urgent keyword at low priority', async () => {
    const response = await demo('POST', '/demo/trigger', { ...calm, description: 'The customer is ANGRY about the invoice.' });
    assert.equal(response.body.triggered, true);
    assert.equal(response.body.reason, 'Description contains urgent keyword "angry"');
    assert.deepEqual(response.body.keywords, ['angry']);
  });

  it('does not trigger on a calm low-priority event: nothing is submitted or sent', async () => {
    const before = (await demo('GET', '/demo/inbox?limit=1000')).body.events.length;
    const outboxBefore = (await demo('GET', '/demo/outbox')).body.messages.length;
    const response = await demo('POST', '/demo/trigger', calm);
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, { triggered: false, reason: 'Priority is low and no urgent keywords detected', keywords: [] });
    assert.equal((await demo('GET', '/demo/inbox?limit=1000')).body.events.length, before);
    assert.equal((await demo('GET', '/demo/outbox')).body.messages.length, outboxBefore);
  });

  it('refuses an invalid composer form with 400 invalid_request naming the field', async () => {
    const badEmail = await demo('POST', '/demo/trigger', { ...urgent, customer_email: 'not-an-email' });
    assertProblem(badEmail, 400, 'invalid_request');
    assert.match(badEmail.body.detail, /customer_email/);
    assertProblem(await demo('POST', '/demo/trigger', { ...urgent, priority: 'urgent' }), 400, 'invalid_request');
    assertProblem(await demo('POST', '/demo/trigger', { ...urgent, description: '   ' }), 400, 'invalid_request');
    assertProblem(await demo('POST', '/demo/trigger', { ...urgent, api_key: 'x' }), 400, 'invalid_request');
  });

  it('analyzes a pasted Jira ticket, submits it and emails the reporter', async () => {
    const response = await demo('POST', '/demo/analyze-ticket', { text: TICKET });
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(response.body.ticket, {
      key: 'SUP-4711',
      summary: 'Checkout fails for EU customers',
      priority: 'high',
      jira_priority: 'Highest',
      description: 'Every EU card payment is declined since the 10:00 deploy.',
      reporter_email: 'jane@acme.test',
    });
    assert.equal(response.body.triggered, true);
    assert.equal(response.body.submitted, true);
    assert.equal(response.body.payload.event_type, 'ticket.escalated');
    assert.equal(response.body.email.to, 'jane@acme.test');
    const event = await waitForStatus(response.body.event_id, 'delivered');
    assert.equal(event.payload.ticket.key, 'SUP-4711');
  });

  it('previews a ticket without submitting when submit is false, and skips the email without a reporter', async () => {
    const preview = await demo('POST', '/demo/analyze-ticket', { text: TICKET, submit: false });
    assert.equal(preview.body.triggered, true);
    assert.equal(preview.body.submitted, false);
    assert.equal(preview.body.event_id, undefined);

    const noReporter = await demo('POST', '/demo/analyze-ticket', { text: 'Summary: Site down\nDescription: This is an emergency.' });
    assert.equal(noReporter.body.reason, 'Ticket contains urgent keyword "emergency"');
    assert.equal(noReporter.body.email.status, 'skipped');

    const calmTicket = await demo('POST', '/demo/analyze-ticket', { text: 'OPS-1: Tidy the wiki\nPriority: Low' });
    assert.equal(calmTicket.body.triggered, false);
    assert.equal(calmTicket.body.submitted, false);

    assertProblem(await demo('POST', '/demo/analyze-ticket', { text: '   \n  ' }), 400, 'invalid_request');
  });

  it("reads the demo customer's inbox with the public API's filters, paging and errors", async () => {
    const tickets = await demo('GET', '/demo/inbox?event_type=ticket.escalated');
    assert.equal(tickets.status, 200);
    assert.ok(tickets.body.events.length >= 2);
    assert.ok(tickets.body.events.every((e: { payload: { event_type: string } }) => e.payload.event_type === 'ticket.escalated'));

    const firstPage = (await demo('GET', '/demo/inbox?limit=1')).body;
    assert.equal(firstPage.events.length, 1);
    assert.equal(firstPage.has_more, true);
    const secondPage = (await demo('GET', `/demo/inbox?limit=1&cursor=${encodeURIComponent(firstPage.cursor)}`)).body;
    assert.notEqual(secondPage.events[0].event_id, firstPage.events[0].event_id);

    const delivered = (await demo('GET', '/demo/inbox?status=delivered')).body.events;
    assert.ok(delivered.length >= 1 && delivered.every((e: { status: string }) => e.status === 'delivered'));
    const future = (await demo('GET', `/demo/inbox?start_time=${new Date(Date.now() + 3600_000).toISOString()}`)).body.events;
    assert.deepEqual(future, []);

    const badTime = await demo('GET', '/demo/inbox?start_time=yesterday');
    assertProblem(badTime, 400, 'invalid_request');
    assert.match(badTime.body.detail, /start_time/);
    assertProblem(await demo('GET', '/demo/inbox?status=lost'), 400, 'invalid_request');
    assertProblem(await demo('GET', '/demo/events/00000000-0000-7000-8000-000000000000'), 404, 'not_found');
    assertProblem(await demo('GET', '/demo/events/not-an-id'), 404, 'not_found');
    // An id is one path segment of the public route, never a way to another one (/api/v1/inbox here).
    const escaped = await demo('GET', '/demo/events/..%2Finbox');
    assertProblem(escaped, 404, 'not_found');
    assert.equal(escaped.body.detail, 'No such event.');
  });

  describe('subscriptions', () => {
    let receiver: WebhookReceiver;
    before(async () => {
      receiver = await startWebhookReceiver();
    });
    after(async () => {
      await receiver?.close();
    });

    it('creates one (secret shown once), delivers to it, disables, enables, rotates and deletes it', async () => {
      const created = await demo('POST', '/demo/subscriptions', {
        event_selector: { type: 'custom', function: { field: 'document_type', operator: 'equals', value: 'Receipt' } },
        webhook_url: receiver.url(),
        description: 'Receipts',
      });
      assert.equal(created.status, 201, created.text);
      assert.match(created.body.secret, /^whsec_/);
      const id = created.body.workflow_id;

      const listed = (await demo('GET', '/demo/subscriptions')).body.subscriptions;
      const mine = listed.find((s: { workflow_id: string }) => s.workflow_id === id);
      assert.ok(mine);
      assert.equal('secret' in mine, false);
      assert.ok(listed.some((s: { description: string }) => s.description === 'Demo webhook sink (built in)'));

      const sent = await demo('POST', '/demo/trigger', { ...urgent, document_type: 'Receipt' });
      const [request] = await receiver.waitFor(1, 10_000);
      assert.equal(JSON.parse(request.body)[0].event_id, sent.body.event_id);

      const disabled = await demo('PATCH', `/demo/subscriptions/${id}`, { status: 'disabled' });
      assert.equal(disabled.body.status, 'disabled');
      assert.equal((await demo('PATCH', `/demo/subscriptions/${id}`, { status: 'active' })).body.status, 'active');

      const rotated = await demo('POST', `/demo/subscriptions/${id}/rotate-secret`);
      assert.equal(rotated.status, 200);
      assert.match(rotated.body.secret, /^whsec_/);
      assert.notEqual(rotated.body.secret, created.body.secret);

      assert.equal((await demo('DELETE', `/demo/subscriptions/${id}`)).status, 204);
      assertProblem(await demo('DELETE', `/demo/subscriptions/${id}`), 404, 'not_found');
    });

    it("relays the API's invalid_selector and invalid_webhook_url errors", async () => {
      const badSelector = await demo('POST', '/demo/subscriptions', { event_selector: { type: 'event_type', value: 7 }, webhook_url: receiver.url() });
      assertProblem(badSelector, 400, 'invalid_selector');
      assert.match(badSelector.body.detail, /value/);
      assertProblem(await demo('POST', '/demo/subscriptions', { event_selector: { type: 'event_type', value: 'a' }, webhook_url: 'ftp://x' }), 400, 'invalid_webhook_url');
    });

    it('keeps verifying the sink after its secret is rotated through the console', async () => {
      const sinkId = (await demo('GET', '/demo/status')).body.webhook_sink.workflow_id;
      assert.equal((await demo('POST', `/demo/subscriptions/${sinkId}/rotate-secret`)).status, 200);
      const sent = await demo('POST', '/demo/trigger', urgent);
      await waitForStatus(sent.body.event_id, 'delivered');
      const receipt = (await demo('GET', '/demo/webhook-sink')).body.receipts.find((r: { event_ids: string[] }) => r.event_ids.includes(sent.body.event_id));
      assert.equal(receipt.signature_verified, true);
    });
  });

  it('tests a selector against a sample payload: match, no match, or the invalid_selector detail', async () => {
    const payload = { event_type: 'document.escalated', priority: 'high', amount: 120 };
    const match = await demo('POST', '/demo/selectors/test', { event_selector: { type: 'jsonpath', expression: "$.priority == 'high' && $.amount > 100" }, payload });
    assert.deepEqual(match.body, { valid: true, matches: true });
    const miss = await demo('POST', '/demo/selectors/test', { event_selector: { type: 'event_type', value: 'order.*' }, payload });
    assert.deepEqual(miss.body, { valid: true, matches: false });
    const invalid = await demo('POST', '/demo/selectors/test', { event_selector: { type: 'custom', function: { field: 'a', operator: 'bigger', value: 1 } }, payload });
    assert.equal(invalid.body.valid, false);
    assert.match(invalid.body.detail, /function\.operator/);
    assertProblem(await demo('POST', '/demo/selectors/test', { event_selector: { type: 'event_type', value: 'a' }, payload: [] }), 400, 'invalid_request');
  });

  it('the selector tester gives the matcher\'s answer for every payload: __proto__ keys, numbers beyond a double, duplicate keys', async () => {
    // [selector, payload text]: each is tested by the tester and by the real pipeline (a
    // subscription with the selector, the payload posted, the event ends delivered or unmatched).
    const cases: [unknown, string][] = [
      [{ type: 'custom', function: { field: '__proto__.tier', operator: 'equals', value: 'gold' } }, '{"event_type":"t","__proto__":{"tier":"gold"}}'],
      [{ type: 'jsonpath', expression: "$['__proto__'].tier == 'gold'" }, '{"event_type":"t","__proto__":{"tier":"gold"}}'],
      [{ type: 'custom', function: { field: '__proto__', operator: 'not_exists' } }, '{"event_type":"t","__proto__":{}}'],
      [{ type: 'jsonpath', expression: '$.n > 12345678901234567000' }, '{"event_type":"t","n":12345678901234567890}'],
      [{ type: 'jsonpath', expression: '$.n == 12345678901234567000' }, '{"event_type":"t","n":12345678901234567890}'],
      [{ type: 'custom', function: { field: 'n', operator: 'less_than', value: -9007199254740992 } }, '{"event_type":"t","n":-9007199254740993}'],
      [{ type: 'jsonpath', expression: '$.k == 2' }, '{"event_type":"t","k":1,"k":2}'],
      [{ type: 'event_type', value: 't' }, '{"event_type":"other"}'],
    ];
    const answers: { tester: boolean; matcher: boolean }[] = [];
    for (const [selector, payload] of cases) {
      const tested = await server.request('POST', '/demo/selectors/test', {
        body: `{"event_selector":${JSON.stringify(selector)},"payload":${payload}}`,
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(tested.status, 200, tested.text);
      assert.equal(tested.body.valid, true, tested.text);

      const { apiKey } = await server.createCustomer();
      const hook = await startWebhookReceiver();
      try {
        const subscription = await server.request('POST', '/api/v1/subscriptions', { apiKey, json: { event_selector: selector, webhook_url: hook.url() } });
        assert.equal(subscription.status, 201, subscription.text);
        const posted = await server.request('POST', '/api/v1/events', { apiKey, body: `{"payload":${payload}}`, headers: { 'content-type': 'application/json' } });
        assert.equal(posted.status, 202, posted.text);
        let status = 'pending';
        await waitUntil(
          async () => {
            status = (await server.request('GET', `/api/v1/events/${posted.body.event_id}`, { apiKey })).body.status;
            return status !== 'pending';
          },
          { timeoutMs: 10_000, what: `the event for ${payload} to settle` },
        );
        answers.push({ tester: tested.body.matches, matcher: status === 'delivered' });
      } finally {
        await hook.close();
      }
    }
    assert.deepEqual(answers.map((a) => a.tester), answers.map((a) => a.matcher), JSON.stringify(answers));
    // And the answers are the right ones (a tester and a matcher both wrong would agree too).
    assert.deepEqual(answers.map((a) => a.matcher), [true, true, false, true, false, true, true, false]);
  });

  it('submits a burst through the batch endpoint and counts it in the stats', async () => {
    const burst = await demo('POST', '/demo/burst', { count: 5 });
    assert.equal(burst.status, 202, burst.text);
    assert.equal(burst.body.accepted, 5);
    const stats = (await demo('GET', '/demo/stats?window_seconds=60&bucket_seconds=2')).body;
    assert.equal(stats.buckets.length, 30);
    assert.ok(stats.totals.total >= 5, JSON.stringify(stats.totals));
    assert.equal(stats.totals.total, stats.totals.delivered + stats.totals.pending + stats.totals.failed + stats.totals.unmatched);
    assert.equal(stats.truncated, false);
    assertProblem(await demo('GET', '/demo/stats?window_seconds=1'), 400, 'invalid_request');
    assertProblem(await demo('POST', '/demo/burst', { count: 1000 }), 400, 'invalid_request');
  });

  it('renews its API key when an operator revoked it', async () => {
    const account = await server.server.ctx.backends.demoStore.get<DemoAccount>('customer');
    assert.ok(account);
    assert.equal((await server.request('DELETE', `/admin/api-keys/${account.key_id}`, { admin: true })).status, 204);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the key cache
    const inbox = await demo('GET', '/demo/inbox?limit=1');
    assert.equal(inbox.status, 200, inbox.text);
    const renewed = await server.server.ctx.backends.demoStore.get<DemoAccount>('customer');
    assert.notEqual(renewed!.key_id, account.key_id);
    assert.equal(renewed!.customer_id, account.customer_id);
  });

  it('keeps unknown API paths a problem+json 404 next to the console', async () => {
    for (const path of ['/api/v1/nope', '/demo/nope', '/admin/nope', '/health/x']) {
      assertProblem(await server.request('GET', path), 404, 'not_found');
    }
  });
});

describe('Demo back end switched off (TRIGGERS_DEMO=0)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ TRIGGERS_DEMO: '0' });
  });
  after(async () => {
    await server?.close();
  });

  it('serves neither /demo/* nor the console', async () => {
    assertProblem(await server.request('GET', '/demo/status'), 404, 'not_found');
    assertProblem(await server.request('POST', '/demo/trigger', { json: urgent }), 404, 'not_found');
    assertProblem(await server.request('GET', '/'), 404, 'not_found');
  });
});
