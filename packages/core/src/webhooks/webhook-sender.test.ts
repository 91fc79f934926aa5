import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import type { SsrfAllow } from '../domain/delivery/ssrf-policy.ts';
import { InvalidRedirectError, InvalidWebhookUrlError, SsrfBlockedError, TooManyRedirectsError, WebhookTimeoutError } from '../domain/delivery/errors.ts';
import { classifyError, classifyResponse } from '../domain/delivery/outcome.ts';
import { parseRetryAfter } from '../domain/delivery/retry-delay.ts';
import { generateWebhookSecret, webhookSignatureHeaders } from '../domain/delivery/signature.ts';
import type { LookupFunction } from './ssrf-connector.ts';
import { createWebhookSender, type WebhookSender, type WebhookSenderOptions } from './webhook-sender.ts';

// Every server here listens on 127.0.0.1 or ::1, and every URL a test sends to is either one of
// them or an address the policy must refuse before any connection is made.

interface Hit {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}
type Script = (req: IncomingMessage, res: ServerResponse, body: string) => void;

interface Receiver {
  host: '127.0.0.1' | '::1';
  port: number;
  hits: Hit[];
  connections: number;
  url(path?: string): string;
  close(): Promise<void>;
}

const receivers: Receiver[] = [];
const senders: WebhookSender[] = [];

async function startReceiver(script: Script, host: '127.0.0.1' | '::1' = '127.0.0.1'): Promise<Receiver> {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      hits.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      script(req, res, body);
    });
  });
  const receiver: Receiver = {
    host,
    port: 0,
    hits,
    connections: 0,
    url: (path = '/hook') => `http://${host === '::1' ? '[::1]' : host}:${receiver.port}${path}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on('connection', () => (receiver.connections += 1));
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receivers.push(receiver);
  return receiver;
}

function sender(options: Partial<WebhookSenderOptions> = {}): WebhookSender {
  const s = createWebhookSender({ timeoutMs: 2000, ssrfAllow: { kind: 'loopback' }, ...options });
  senders.push(s);
  return s;
}

const reply =
  (status: number, body = '', headers: Record<string, string> = {}): Script =>
  (_req, res) => {
    res.writeHead(status, headers);
    res.end(body);
  };

const BODY = JSON.stringify([{ event_id: 'evt_1', customer_id: 'cus_1', payload: { n: 1 }, timestamp: '2025-01-15T12:00:00.000Z' }]);
const HEADERS = { 'content-type': 'application/json', 'webhook-id': 'msg_1', 'webhook-timestamp': '1736942400', 'webhook-signature': 'v1,abc' };

afterEach(async () => {
  await Promise.all(senders.splice(0).map((s) => s.close()));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

describe('webhook sender', () => {
  it('POSTs the body with the signature headers and reports a 2xx', async () => {
    const secret = generateWebhookSecret();
    const receiver = await startReceiver((req, res, body) => {
      const verified = new Webhook(secret).verify(body, req.headers as Record<string, string>);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`verified ${(verified as unknown[]).length}`);
    });
    const headers = { 'Content-Type': 'application/json', ...webhookSignatureHeaders({ id: 'msg_ok', timestampSeconds: Math.floor(Date.now() / 1000), body: BODY, secrets: [secret] }) };

    const result = await sender().send({ url: receiver.url('/hook?src=test'), body: BODY, headers });

    assert.equal(result.error, undefined);
    assert.equal(result.statusCode, 200);
    assert.equal(classifyResponse(result.statusCode), 'succeeded');
    assert.equal(result.bodyPrefix, 'verified 1');
    assert.equal(result.headers['content-type'], 'text/plain');
    assert.equal(result.redirects, 0);
    assert.ok(result.durationMs >= 0);
    const [hit] = receiver.hits;
    assert.equal(hit.method, 'POST');
    assert.equal(hit.url, '/hook?src=test');
    assert.equal(hit.body, BODY);
    assert.equal(hit.headers['user-agent'], 'Zapier-Triggers-API/1.0');
    assert.equal(hit.headers['content-type'], 'application/json');
    assert.equal(hit.headers['webhook-id'], 'msg_ok');
  });

  it('reports a 500 with its Retry-After for the retry schedule', async () => {
    const receiver = await startReceiver(reply(503, 'busy', { 'retry-after': '7' }));
    const result = await sender().send({ url: receiver.url(), body: BODY, headers: HEADERS });
    assert.equal(result.error, undefined);
    assert.equal(result.statusCode, 503);
    assert.equal(classifyResponse(result.statusCode), 'retry');
    assert.equal(result.bodyPrefix, 'busy');
    assert.equal(parseRetryAfter(result.headers['retry-after'], Date.now()), 7000);
  });

  it('reports a 410 so the subscription gets disabled', async () => {
    const receiver = await startReceiver(reply(410));
    const result = await sender().send({ url: receiver.url(), body: BODY, headers: HEADERS });
    assert.equal(classifyResponse(result.statusCode!), 'disable');
  });

  it('times out on a receiver that never answers', async () => {
    const receiver = await startReceiver(() => {
      /* never answers */
    });
    const result = await sender({ timeoutMs: 200 }).send({ url: receiver.url(), body: BODY, headers: HEADERS });
    assert.ok(result.error instanceof WebhookTimeoutError, String(result.error));
    assert.equal(result.statusCode, null);
    assert.equal(classifyError(result.error), 'retry');
    assert.ok(result.durationMs >= 180 && result.durationMs < 1500, String(result.durationMs));
    assert.equal(receiver.hits.length, 1);
  });

  it('takes a per-request timeout over its own (a subscription\'s timeout_ms), shorter or longer', async () => {
    const receiver = await startReceiver(() => {
      /* never answers */
    });
    const shorter = await sender({ timeoutMs: 5000 }).send({ url: receiver.url(), body: BODY, headers: HEADERS }, { timeoutMs: 200 });
    assert.ok(shorter.error instanceof WebhookTimeoutError, String(shorter.error));
    assert.ok(shorter.durationMs >= 180 && shorter.durationMs < 1500, String(shorter.durationMs));
    const slow = await startReceiver((_req, res) => void setTimeout(() => res.writeHead(200).end(), 400));
    const longer = await sender({ timeoutMs: 200 }).send({ url: slow.url(), body: BODY, headers: HEADERS }, { timeoutMs: 2000 });
    assert.equal(longer.error, undefined, String(longer.error));
    assert.equal(longer.statusCode, 200);
  });

  it('keeps the status of a receiver that answers and then stalls its body', async () => {
    const receiver = await startReceiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
    });
    const result = await sender({ timeoutMs: 200 }).send({ url: receiver.url(), body: BODY, headers: HEADERS });
    assert.equal(result.error, undefined);
    assert.equal(result.statusCode, 200);
    assert.equal(result.bodyPrefix, 'partial');
  });

  it('reports a refused connection as retryable', async () => {
    const closed = await startReceiver(reply(200));
    const url = closed.url();
    await closed.close();
    const result = await sender().send({ url, body: BODY, headers: HEADERS });
    assert.equal(result.statusCode, null);
    assert.equal((result.error as { code?: string }).code, 'ECONNREFUSED');
    assert.equal(classifyError(result.error), 'retry');
  });

  it('keeps only the first 1 KiB of the response and does not wait for the rest', async () => {
    const receiver = await startReceiver((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('x' + 'é'.repeat(8 * 1024 * 1024)); // 16 MiB; the 1 KiB cut falls inside an "é"
    });
    const result = await sender().send({ url: receiver.url(), body: BODY, headers: HEADERS });
    assert.equal(result.statusCode, 500);
    assert.equal(result.bodyPrefix, 'x' + 'é'.repeat(511));
    assert.ok(Buffer.byteLength(result.bodyPrefix) <= 1024);
    assert.ok(result.durationMs < 1500, String(result.durationMs));
  });

  it('reuses the pooled connection for the next delivery', async () => {
    const receiver = await startReceiver(reply(200, 'ok'));
    const s = sender();
    await s.send({ url: receiver.url(), body: BODY, headers: HEADERS });
    await sleep(20); // undici hands the socket back to the pool a moment after the body ended
    await s.send({ url: receiver.url(), body: BODY, headers: HEADERS });
    assert.equal(receiver.hits.length, 2);
    assert.equal(receiver.connections, 1);
  });

  it('refuses an unusable stored URL without sending', async () => {
    const s = sender();
    const ftp = await s.send({ url: 'ftp://127.0.0.1/hook', body: BODY, headers: HEADERS });
    assert.ok(ftp.error instanceof InvalidWebhookUrlError);
    const creds = await s.send({ url: 'http://user:pw@127.0.0.1:1/hook', body: BODY, headers: HEADERS });
    assert.ok(creds.error instanceof InvalidWebhookUrlError);
    assert.equal(classifyError(creds.error), 'fail');
  });
});

describe('webhook sender: redirects', () => {
  for (const status of [301, 302, 303, 307, 308]) {
    it(`follows a ${status} by re-POSTing the same body and headers`, async () => {
      const receiver = await startReceiver((req, res) => {
        if (req.url === '/old') reply(status, 'moved', { location: '/new?x=1' })(req, res, '');
        else reply(202, 'accepted')(req, res, '');
      });
      const result = await sender().send({ url: receiver.url('/old'), body: BODY, headers: HEADERS });
      assert.equal(result.error, undefined);
      assert.equal(result.statusCode, 202);
      assert.equal(result.redirects, 1);
      assert.equal(result.url, receiver.url('/new?x=1'));
      assert.deepEqual(receiver.hits.map((h) => [h.method, h.url]), [['POST', '/old'], ['POST', '/new?x=1']]);
      assert.equal(receiver.hits[1].body, BODY);
      assert.equal(receiver.hits[1].headers['webhook-signature'], HEADERS['webhook-signature']);
      assert.equal(receiver.hits[1].headers['webhook-id'], HEADERS['webhook-id']);
    });
  }

  it('follows a redirect to another receiver', async () => {
    const target = await startReceiver(reply(200, 'there'));
    const origin = await startReceiver(reply(307, '', { location: target.url('/in') }));
    const result = await sender().send({ url: origin.url(), body: BODY, headers: HEADERS });
    assert.equal(result.statusCode, 200);
    assert.equal(result.bodyPrefix, 'there');
    assert.equal(target.hits[0].body, BODY);
  });

  it('gives up on a redirect loop after 5 hops', async () => {
    const receiver = await startReceiver((req, res) => reply(307, '', { location: req.url === '/a' ? '/b' : '/a' })(req, res, ''));
    const result = await sender().send({ url: receiver.url('/a'), body: BODY, headers: HEADERS });
    assert.ok(result.error instanceof TooManyRedirectsError);
    assert.equal(classifyError(result.error), 'fail');
    assert.equal(result.redirects, 5);
    assert.equal(receiver.hits.length, 6); // the first request and 5 followed redirects
  });

  it('refuses a redirect to an address the policy forbids, without connecting to it', async () => {
    // Only ::1 is allowed; the redirect points to a live receiver on 127.0.0.1 that must see nothing.
    const forbidden = await startReceiver(reply(200, 'should not be reached'), '127.0.0.1');
    const allowed = await startReceiver(reply(307, '', { location: forbidden.url('/internal') }), '::1');
    const result = await sender({ ssrfAllow: { kind: 'cidrs', cidrs: ['::1/128'] } }).send({ url: allowed.url(), body: BODY, headers: HEADERS });
    assert.ok(result.error instanceof SsrfBlockedError, String(result.error));
    assert.equal(result.error.address, '127.0.0.1');
    assert.equal(classifyError(result.error), 'fail');
    assert.equal(result.redirects, 1);
    assert.equal(allowed.hits.length, 1);
    assert.equal(forbidden.hits.length, 0);
    assert.equal(forbidden.connections, 0);
  });

  it('refuses a redirect towards cloud metadata, in any spelling', async () => {
    for (const location of ['http://169.254.169.254/latest/meta-data/', 'http://2852039166/', 'http://[::ffff:a9fe:a9fe]/', 'http://[fd00:ec2::254]/']) {
      const receiver = await startReceiver(reply(302, '', { location }));
      const result = await sender({ ssrfAllow: { kind: 'private' } }).send({ url: receiver.url(), body: BODY, headers: HEADERS });
      assert.ok(result.error instanceof SsrfBlockedError, `${location}: ${result.error}`);
      assert.match(result.error.reason, /cloud metadata/);
    }
  });

  it('refuses a redirect to another scheme or with credentials', async () => {
    for (const location of ['ftp://127.0.0.1/x', 'http://user:pw@127.0.0.1/x']) {
      const receiver = await startReceiver(reply(308, '', { location }));
      const result = await sender().send({ url: receiver.url(), body: BODY, headers: HEADERS });
      assert.ok(result.error instanceof InvalidRedirectError, `${location}: ${result.error}`);
      assert.equal(classifyError(result.error), 'fail');
    }
  });
});

describe('webhook sender: DNS', () => {
  const lookupTo =
    (answers: Record<string, string[]>, calls: string[] = []): LookupFunction =>
    async (hostname) => {
      calls.push(hostname);
      return (answers[hostname] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    };

  it('connects to the address it resolved and checked, sending the name as Host', async () => {
    const receiver = await startReceiver(reply(200, 'ok'));
    const calls: string[] = [];
    const s = sender({ lookup: lookupTo({ 'receiver.test': ['127.0.0.1'] }, calls) });
    const url = `http://receiver.test:${receiver.port}/hook`;
    assert.equal((await s.send({ url, body: BODY, headers: HEADERS })).statusCode, 200);
    await sleep(20);
    assert.equal((await s.send({ url, body: BODY, headers: HEADERS })).statusCode, 200);
    assert.equal(receiver.hits[0].headers.host, `receiver.test:${receiver.port}`);
    assert.deepEqual(calls, ['receiver.test']); // one lookup for one pooled connection
  });

  it('refuses a name that resolves to a forbidden address, at connect time', async () => {
    const receiver = await startReceiver(reply(200, 'should not be reached'));
    const result = await sender({ ssrfAllow: { kind: 'none' }, lookup: lookupTo({ 'rebind.test': ['127.0.0.1'] }) }).send({
      url: `http://rebind.test:${receiver.port}/hook`,
      body: BODY,
      headers: HEADERS,
    });
    assert.ok(result.error instanceof SsrfBlockedError, String(result.error));
    assert.equal(result.error.host, 'rebind.test');
    assert.equal(result.error.address, '127.0.0.1');
    assert.equal(receiver.connections, 0);
  });

  it('refuses a name when any of its addresses is forbidden', async () => {
    const receiver = await startReceiver(reply(200, 'should not be reached'));
    const result = await sender({ lookup: lookupTo({ 'mixed.test': ['127.0.0.1', '10.0.0.1'] }) }).send({
      url: `http://mixed.test:${receiver.port}/hook`,
      body: BODY,
      headers: HEADERS,
    });
    assert.ok(result.error instanceof SsrfBlockedError);
    assert.equal(receiver.connections, 0);
  });

  it('checks again on every new connection, so a rebinding answer is caught', async () => {
    // The receiver closes each connection, so the second delivery needs a new one and a new lookup.
    const receiver = await startReceiver(reply(200, 'ok', { connection: 'close' }));
    const answers = [['127.0.0.1'], ['10.0.0.1']];
    let call = 0;
    const lookup: LookupFunction = async () => answers[Math.min(call++, 1)].map((address) => ({ address, family: 4 }));
    const s = sender({ lookup });
    const url = `http://flip.test:${receiver.port}/hook`;
    assert.equal((await s.send({ url, body: BODY, headers: HEADERS })).statusCode, 200);
    const second = await s.send({ url, body: BODY, headers: HEADERS });
    assert.ok(second.error instanceof SsrfBlockedError, String(second.error));
    assert.equal(second.error.address, '10.0.0.1');
    assert.equal(receiver.hits.length, 1);
  });

  it('falls back to the next address of a dual-stack name', async () => {
    const receiver = await startReceiver(reply(200, 'ok'), '127.0.0.1');
    const s = sender({ lookup: lookupTo({ 'dual.test': ['::1', '127.0.0.1'] }) });
    const result = await s.send({ url: `http://dual.test:${receiver.port}/hook`, body: BODY, headers: HEADERS });
    assert.equal(result.statusCode, 200, String(result.error));
  });

  it('reports a name that does not resolve as retryable', async () => {
    const result = await sender({ lookup: lookupTo({}) }).send({ url: 'http://nowhere.test/hook', body: BODY, headers: HEADERS });
    assert.equal((result.error as { code?: string }).code, 'ENOTFOUND');
    assert.equal(classifyError(result.error), 'retry');
  });
});

describe('webhook sender: SSRF address table', () => {
  const LOOPBACK_V4 = ['127.0.0.1', '2130706433', '0x7f000001', '0177.0.0.1', '127.1', '0x7f.1', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]'];
  const LOOPBACK_V6 = ['[::1]', '[0:0:0:0:0:0:0:1]'];
  // Refused under none and loopback alike; none of them is ever dialled.
  const ALWAYS_REFUSED = [
    '0.0.0.0',
    '0',
    '[::]',
    '169.254.169.254',
    '0xa9fea9fe',
    '[::ffff:169.254.169.254]',
    '[fd00:ec2::254]',
    '100.100.100.200',
    '10.0.0.1',
    '172.16.0.1',
    '192.168.1.1',
    '100.64.0.1',
    '[fc00::1]',
    '[fe80::1]',
    '224.0.0.1',
    '255.255.255.255',
    '[2002:7f00:1::]',
    '[64:ff9b::7f00:1]',
  ];

  let v4: Receiver;
  let v6: Receiver;
  beforeEach(async () => {
    v4 = await startReceiver(reply(200, 'v4'), '127.0.0.1');
    v6 = await startReceiver(reply(200, 'v6'), '::1');
  });

  const policies: Array<[string, SsrfAllow, boolean]> = [
    ['none', { kind: 'none' }, false],
    ['loopback', { kind: 'loopback' }, true],
  ];
  for (const [name, allow, loopbackAllowed] of policies) {
    it(`under ${name}: loopback literals ${loopbackAllowed ? 'reach the receiver' : 'are refused'}`, async () => {
      const s = sender({ ssrfAllow: allow });
      for (const host of [...LOOPBACK_V4, ...LOOPBACK_V6]) {
        const port = LOOPBACK_V6.includes(host) ? v6.port : v4.port;
        const result = await s.send({ url: `http://${host}:${port}/hook`, body: BODY, headers: HEADERS });
        if (loopbackAllowed) {
          assert.equal(result.statusCode, 200, `${host}: ${result.error}`);
          assert.equal(result.bodyPrefix, LOOPBACK_V6.includes(host) ? 'v6' : 'v4', host);
        } else {
          assert.ok(result.error instanceof SsrfBlockedError, `${host}: ${result.error}`);
        }
      }
      if (!loopbackAllowed) assert.equal(v4.connections + v6.connections, 0);
    });

    it(`under ${name}: unspecified, metadata, private, link-local and multicast literals are refused`, async () => {
      const s = sender({ ssrfAllow: allow });
      for (const host of ALWAYS_REFUSED) {
        const result = await s.send({ url: `http://${host}:${v4.port}/hook`, body: BODY, headers: HEADERS });
        assert.ok(result.error instanceof SsrfBlockedError, `${host}: ${result.error}`);
        assert.equal(classifyError(result.error), 'fail');
      }
      assert.equal(v4.connections + v6.connections, 0);
    });
  }
});
