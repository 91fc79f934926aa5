import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '@triggers/all-in-one/test-server';
import { newCustomer, postEvent, receiverPool, sleep, subscribe, waitForEventStatus } from '@triggers/testkit';

const SIGNED_HEADERS = ['content-type', 'user-agent', 'webhook-id', 'webhook-timestamp', 'webhook-signature'] as const;

describe('Webhook delivery: redirects and the SSRF policy', () => {
  const receivers = receiverPool();
  afterEach(() => receivers.closeAll());

  describe('with TRIGGERS_SSRF_ALLOW=127.0.0.1/32', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ TRIGGERS_SSRF_ALLOW: '127.0.0.1/32', TRIGGERS_RETRY_BASE_MS: '50', TRIGGERS_MAX_ATTEMPTS: '3' });
    });
    after(async () => {
      await server?.close();
    });

    for (const status of [307, 301, 302, 303, 308]) {
      it(`follows a ${status} to another path by re-POSTing the same body and signature headers`, async () => {
        const { apiKey, eventType } = await newCustomer(server);
        const receiver = await receivers.start({ answers: [{ status, headers: { location: '/moved?hop=1' } }] });
        await subscribe(server, apiKey, eventType, receiver.url('/hook'));
        const posted = await postEvent(server, apiKey, { event_type: eventType });

        const event = await waitForEventStatus(server, apiKey, posted.event_id, 'delivered');
        assert.deepEqual(event.attempts.map((a) => `${a.attempt}:${a.status}:${a.status_code}`), ['1:succeeded:200'], 'one attempt, however many hops');
        const [original, redirected] = receiver.requests;
        assert.equal(receiver.requests.length, 2);
        assert.equal(original.path, '/hook');
        assert.equal(redirected.path, '/moved?hop=1');
        assert.equal(redirected.method, 'POST');
        assert.equal(redirected.body, original.body);
        for (const name of SIGNED_HEADERS) assert.equal(redirected.headers[name], original.headers[name], name);
      });
    }

    it('follows a redirect to another allowed origin', async () => {
      const { apiKey, eventType } = await newCustomer(server);
      const target = await receivers.start();
      const receiver = await receivers.start({ answers: [{ status: 307, headers: { location: target.url('/elsewhere') } }] });
      await subscribe(server, apiKey, eventType, receiver.url());
      const posted = await postEvent(server, apiKey, { event_type: eventType });
      await waitForEventStatus(server, apiKey, posted.event_id, 'delivered');
      const [arrived] = await target.waitFor(1);
      assert.equal(arrived.path, '/elsewhere');
      assert.equal(arrived.body, receiver.requests[0].body);
    });

    it('refuses a redirect to a forbidden loopback address: the attempt fails, nothing reaches it', async () => {
      const { apiKey, eventType } = await newCustomer(server);
      const forbidden = await receivers.start({ host: '::1' });
      const receiver = await receivers.start({ otherwise: { status: 307, headers: { location: forbidden.url('/stolen') } } });
      await subscribe(server, apiKey, eventType, receiver.url());
      const posted = await postEvent(server, apiKey, { event_type: eventType });

      const event = await waitForEventStatus(server, apiKey, posted.event_id, 'failed');
      assert.equal(event.attempts.length, 1, 'a refused redirect is not retried');
      const [attempt] = event.attempts;
      assert.equal(attempt.status, 'failed');
      assert.match(attempt.error ?? '', /refused/i);
      await sleep(200);
      assert.equal(forbidden.requests.length, 0);
      assert.equal(receiver.requests.length, 1);
    });

    it('refuses a redirect to the cloud metadata address', async () => {
      const { apiKey, eventType } = await newCustomer(server);
      const receiver = await receivers.start({ otherwise: { status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/' } } });
      await subscribe(server, apiKey, eventType, receiver.url());
      const posted = await postEvent(server, apiKey, { event_type: eventType });
      const event = await waitForEventStatus(server, apiKey, posted.event_id, 'failed');
      assert.equal(event.attempts.length, 1);
      assert.match(event.attempts[0].error ?? '', /169\.254\.169\.254/);
      assert.equal(receiver.requests.length, 1);
    });

    it('gives up after 5 redirect hops without retrying', async () => {
      const { apiKey, eventType } = await newCustomer(server);
      const receiver = await receivers.start({ otherwise: (request) => ({ status: 307, headers: { location: `/loop${request.path.length}` } }) });
      await subscribe(server, apiKey, eventType, receiver.url());
      const posted = await postEvent(server, apiKey, { event_type: eventType });
      const event = await waitForEventStatus(server, apiKey, posted.event_id, 'failed');
      assert.equal(event.attempts.length, 1);
      assert.match(event.attempts[0].error ?? '', /5 redirects/);
      assert.equal(receiver.requests.length, 6, 'the first request and 5 hops');
    });

    it('a redirect without Location, or to something other than http(s), fails without retry', async () => {
      const { apiKey, eventType } = await newCustomer(server);
      const bare = await receivers.start({ otherwise: { status: 302 } });
      const ftp = await receivers.start({ otherwise: { status: 307, headers: { location: 'ftp://127.0.0.1/drop' } } });
      await subscribe(server, apiKey, eventType, bare.url());
      await subscribe(server, apiKey, eventType, ftp.url());
      const posted = await postEvent(server, apiKey, { event_type: eventType });
      const event = await waitForEventStatus(server, apiKey, posted.event_id, 'failed');
      assert.deepEqual(event.attempts.map((a) => a.status), ['failed', 'failed']);
      await sleep(200);
      assert.equal(bare.requests.length + ftp.requests.length, 2);
    });

    it('refuses at save time a webhook_url outside the allow-list', async () => {
      const { apiKey, eventType } = await newCustomer(server);
      for (const url of ['http://[::1]:8080/hook', 'http://127.0.0.2/hook', 'http://169.254.169.254/']) {
        const response = await server.request('POST', '/api/v1/subscriptions', { apiKey, json: { event_selector: { type: 'event_type', value: eventType }, webhook_url: url } });
        assert.equal(response.status, 400, `${url}: ${response.text}`);
        assert.equal(response.body.code, 'invalid_webhook_url');
      }
    });
  });

  describe('with TRIGGERS_ENV=production (default policy none)', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ TRIGGERS_ENV: 'production' });
    });
    after(async () => {
      await server?.close();
    });

    const forbiddenUrls = [
      'http://127.0.0.1/hook',
      'http://127.0.0.1:8080/hook',
      'http://169.254.169.254/',
      'http://169.254.169.254/latest/meta-data/iam/',
      'http://localhost:3000/hook',
      'http://[::1]/hook',
      'http://10.0.0.7/hook',
      'http://[::ffff:127.0.0.1]/hook',
    ];
    for (const url of forbiddenUrls) {
      it(`400 invalid_webhook_url for ${url}`, async () => {
        const { apiKey, eventType } = await newCustomer(server);
        const response = await server.request('POST', '/api/v1/subscriptions', { apiKey, json: { event_selector: { type: 'event_type', value: eventType }, webhook_url: url } });
        assert.equal(response.status, 400, response.text);
        assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
        assert.equal(response.body.code, 'invalid_webhook_url');
      });
    }

    it('refuses the same URLs when a PATCH changes webhook_url, and keeps the old one', async () => {
      const { apiKey, eventType } = await newCustomer(server);
      const created = await subscribe(server, apiKey, eventType, 'https://hooks.example.com/triggers');
      for (const url of ['http://127.0.0.1/hook', 'http://169.254.169.254/']) {
        const response = await server.request('PATCH', `/api/v1/subscriptions/${created.workflow_id}`, { apiKey, json: { webhook_url: url } });
        assert.equal(response.status, 400, response.text);
        assert.equal(response.body.code, 'invalid_webhook_url');
      }
      const read = await server.request('GET', `/api/v1/subscriptions/${created.workflow_id}`, { apiKey });
      assert.equal(read.body.webhook_url, 'https://hooks.example.com/triggers');
    });
  });
});
