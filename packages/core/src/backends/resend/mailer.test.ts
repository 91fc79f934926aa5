import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DependencyError } from '../../errors.ts';
import { ResendMailer } from './mailer.ts';

interface SeenRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A local stand-in for api.resend.com: records requests and answers what the test scripts. */
async function startFakeResend(answer: (request: SeenRequest) => { status: number; body?: unknown; delayMs?: number }) {
  const requests: SeenRequest[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const seen = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
    requests.push(seen);
    const { status, body, delayMs } = answer(seen);
    setTimeout(() => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body === undefined ? '' : JSON.stringify(body));
    }, delayMs ?? 0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const API_KEY = 're_test_0123456789abcdef';
const message = { to: 'ops@acme.test', subject: 'Escalated: Contract', text: 'Priority is high', html: '<p>Priority is high</p>' };

describe('Resend mailer', () => {
  let fake: Awaited<ReturnType<typeof startFakeResend>> | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  it('POSTs {from, to, subject, text, html} to {baseUrl}/emails with the bearer key and returns the email id', async () => {
    fake = await startFakeResend(() => ({ status: 200, body: { id: '49a3999c-0ce1-4ea6-ab68-afcd6dc2e794' } }));
    const mailer = new ResendMailer({ apiKey: API_KEY, baseUrl: `${fake.baseUrl}/`, from: 'Triggers <alerts@acme.test>' });

    const sent = await mailer.send(message);

    assert.deepEqual(sent, { id: '49a3999c-0ce1-4ea6-ab68-afcd6dc2e794', provider: 'resend' });
    assert.equal(fake.requests.length, 1);
    const [request] = fake.requests;
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/emails');
    assert.equal(request.headers.authorization, `Bearer ${API_KEY}`);
    assert.match(request.headers['content-type'] ?? '', /^application\/json/);
    assert.deepEqual(JSON.parse(request.body), {
      from: 'Triggers <alerts@acme.test>',
      to: ['ops@acme.test'],
      subject: 'Escalated: Contract',
      text: 'Priority is high',
      html: '<p>Priority is high</p>',
    });
  });

  it('leaves html out when the message has only text', async () => {
    fake = await startFakeResend(() => ({ status: 200, body: { id: 'abc' } }));
    const mailer = new ResendMailer({ apiKey: API_KEY, baseUrl: fake.baseUrl, from: 'a@acme.test' });
    await mailer.send({ to: 'b@acme.test', subject: 's', text: 't' });
    assert.equal('html' in JSON.parse(fake.requests[0].body), false);
  });

  it('turns a refusal (422) into a non-retryable DependencyError with Resend\'s message and never the key', async () => {
    fake = await startFakeResend(() => ({ status: 422, body: { statusCode: 422, name: 'validation_error', message: 'Invalid `from` field.' } }));
    const mailer = new ResendMailer({ apiKey: API_KEY, baseUrl: fake.baseUrl, from: 'nobody' });
    await assert.rejects(mailer.send(message), (error: unknown) => {
      assert.ok(error instanceof DependencyError);
      assert.equal(error.backend, 'resend');
      assert.equal(error.retryable, false);
      assert.match(error.message, /422: Invalid `from` field\./);
      assert.equal(error.message.includes(API_KEY), false);
      return true;
    });
  });

  it('marks 429 and 5xx answers retryable', async () => {
    for (const status of [429, 500, 503]) {
      fake = await startFakeResend(() => ({ status, body: { statusCode: status, message: 'try later' } }));
      const mailer = new ResendMailer({ apiKey: API_KEY, baseUrl: fake.baseUrl, from: 'a@acme.test' });
      await assert.rejects(mailer.send(message), (error: unknown) => error instanceof DependencyError && error.retryable === true);
      await fake.close();
      fake = undefined;
    }
  });

  it('marks a 401 (a wrong key) not retryable', async () => {
    fake = await startFakeResend(() => ({ status: 401, body: { statusCode: 401, name: 'missing_api_key', message: 'Missing API key in the authorization header' } }));
    const mailer = new ResendMailer({ apiKey: API_KEY, baseUrl: fake.baseUrl, from: 'a@acme.test' });
    await assert.rejects(mailer.send(message), (error: unknown) => error instanceof DependencyError && error.retryable === false);
  });

  it('refuses a 2xx answer without an email id', async () => {
    fake = await startFakeResend(() => ({ status: 200, body: { ok: true } }));
    const mailer = new ResendMailer({ apiKey: API_KEY, baseUrl: fake.baseUrl, from: 'a@acme.test' });
    await assert.rejects(mailer.send(message), /without an email id/);
  });

  it('gives up after its timeout with a retryable error', async () => {
    fake = await startFakeResend(() => ({ status: 200, body: { id: 'late' }, delayMs: 2000 }));
    const mailer = new ResendMailer({ apiKey: API_KEY, baseUrl: fake.baseUrl, from: 'a@acme.test', timeoutMs: 100 });
    const started = Date.now();
    await assert.rejects(mailer.send(message), (error: unknown) => {
      assert.ok(error instanceof DependencyError);
      assert.equal(error.retryable, true);
      assert.match(error.message, /timed out/);
      return true;
    });
    assert.ok(Date.now() - started < 1500);
  });

  it('reports an unreachable endpoint as a retryable error', async () => {
    fake = await startFakeResend(() => ({ status: 200 }));
    const baseUrl = fake.baseUrl;
    await fake.close();
    fake = undefined;
    const mailer = new ResendMailer({ apiKey: API_KEY, baseUrl, from: 'a@acme.test' });
    await assert.rejects(mailer.send(message), (error: unknown) => error instanceof DependencyError && error.retryable === true);
  });
});
