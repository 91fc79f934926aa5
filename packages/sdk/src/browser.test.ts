import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '@triggers/all-in-one/test-server';

const CHROMIUM = process.env.TRIGGERS_TEST_CHROMIUM || '/usr/bin/chromium';
const ENTRY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'index.ts');

/** Runs in the page: the SDK as a page script would use it (global `TriggersSDK` from the bundle). */
const IN_PAGE = `(async () => {
  const sdk = window.TriggersSDK;
  const client = new sdk.Triggers({ baseUrl: location.origin, apiKey: window.API_KEY });
  const stop = new AbortController();
  const streamed = [];
  let opened;
  const open = new Promise((resolve) => (opened = resolve));
  const reading = (async () => {
    for await (const event of client.events.stream({ signal: stop.signal, onOpen: () => opened() })) {
      streamed.push(event.event_id);
      if (streamed.length === 2) stop.abort();
    }
  })();
  await open;
  const first = await client.events.send({ event_type: 'browser.test', n: 1 });
  const batch = await client.events.sendBatch([{ n: 2 }]);
  await reading;
  const listed = (await client.inbox.list()).events.map((e) => e.event_id);
  const secret = 'whsec_' + btoa('a browser secret of 24 bytes');
  const body = JSON.stringify([{ event_id: first.event_id }]);
  const ts = Math.floor(Date.now() / 1000);
  const headers = { 'webhook-id': 'msg_x', 'webhook-timestamp': String(ts), 'webhook-signature': await sdk.signWebhook(secret, 'msg_x', ts, body) };
  const verified = await sdk.verifyWebhook(body, headers, secret);
  const tampered = await sdk.verifyWebhook(body + ' ', headers, secret).then(() => 'accepted', (e) => e.name);
  return { sent: [first.event_id, batch[0].event_id], streamed, listed, verified, tampered };
})()`;

/**
 * The SDK in a browser: bundled for the browser platform (which fails on any Node built-in), then
 * run in headless chromium against a real all-in-one — send, list, the live stream over fetch, and
 * webhook signing and verification with WebCrypto. Skipped without chromium, unless
 * TRIGGERS_REQUIRE_BACKENDS=1.
 */
describe('TypeScript SDK in a browser', function () {
  this.timeout(60_000);
  let bundle: string;
  let browser: Browser | undefined;
  let server: TestServer | undefined;

  before(async function () {
    const result = await build({ entryPoints: [ENTRY], bundle: true, platform: 'browser', format: 'iife', globalName: 'TriggersSDK', target: 'es2022', write: false, logLevel: 'silent' });
    bundle = result.outputFiles[0].text;
    if (!existsSync(CHROMIUM)) {
      const message = `${CHROMIUM} is not installed (apt-get install -y chromium, or set TRIGGERS_TEST_CHROMIUM)`;
      if (process.env.TRIGGERS_REQUIRE_BACKENDS === '1') throw new Error(`${message}, and TRIGGERS_REQUIRE_BACKENDS=1 requires the browser tests`);
      console.log(`      Skipping the SDK browser test: ${message}.`);
      this.skip();
    }
    server = await startTestServer();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('bundles for the browser with no Node built-in', () => {
    assert.ok(bundle.length > 1000);
    assert.doesNotMatch(bundle, /require\(["']node:|from ["']node:/);
  });

  it('sends, lists, streams and verifies from a page', async () => {
    const { apiKey } = await server!.createCustomer();
    const page = await browser!.newPage();
    try {
      await page.goto(`${server!.url}/health`); // a page on the API's origin: no CORS involved
      await page.addScriptTag({ content: bundle });
      // Plain JavaScript in a string: a function would be serialised with tsx's helper calls in it.
      await page.evaluate(`window.API_KEY = ${JSON.stringify(apiKey)}`);
      const result = (await page.evaluate(IN_PAGE)) as { sent: string[]; streamed: string[]; listed: string[]; verified: unknown; tampered: string };
      assert.deepEqual(result.streamed, result.sent);
      assert.deepEqual([...result.listed].sort(), [...result.sent].sort());
      assert.deepEqual(result.verified, [{ event_id: result.sent[0] }]);
      assert.equal(result.tampered, 'WebhookVerificationError');
    } finally {
      await page.close();
    }
  });
});
