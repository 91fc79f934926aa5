import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startWebhookReceiver, waitUntil, type WebhookReceiver } from '@triggers/testkit';
import { startTestServer, type TestServer } from './test-server.ts';

/**
 * Issue 10 item 6: the embedded server's data folder on a small filesystem (a tmpfs mounted here)
 * that fills up. Ingest answers `503 unavailable` naming storage and keeps nothing of what it
 * refused, `/ready` says the storage is full, and once space returns the same process accepts
 * again and delivers everything it acknowledged. Mounting needs root: skipped otherwise, except
 * that TRIGGERS_REQUIRE_BACKENDS=1 (CI) makes "cannot mount" a failure.
 */
describe('disk full (embedded): 503 naming storage, nothing half-written, /ready says so, recovery without a restart', function () {
  this.timeout(180_000);
  const required = process.env.TRIGGERS_REQUIRE_BACKENDS === '1';
  let mountPoint: string | undefined;
  let mounted = false;
  let server: TestServer | undefined;
  let receiver: WebhookReceiver | undefined;
  const filler = () => path.join(mountPoint!, 'filler');

  before(function () {
    const cannot = (why: string) => {
      if (required) throw new Error(`disk-full test: ${why} (TRIGGERS_REQUIRE_BACKENDS=1)`);
      console.log(`      skipped: ${why}`);
      this.skip();
    };
    if (process.getuid?.() !== 0) return cannot('mounting a tmpfs needs root');
    mountPoint = fs.mkdtempSync(path.join(os.tmpdir(), 'triggers-disk-full-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m,mode=0700', 'tmpfs', mountPoint], { stdio: 'pipe' });
      mounted = true;
    } catch (error) {
      return cannot(`mount -t tmpfs failed: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`);
    }
  });

  after(async function () {
    await server?.close();
    await receiver?.close();
    if (mounted) execFileSync('umount', [mountPoint!]);
    if (mountPoint) fs.rmSync(mountPoint, { recursive: true, force: true });
  });

  /** Fills the filesystem with one file until ENOSPC. */
  function fillDisk(): void {
    const fd = fs.openSync(filler(), 'a');
    try {
      for (const size of [1024 * 1024, 4096, 512]) {
        const chunk = Buffer.alloc(size, 1);
        for (;;) {
          try {
            fs.writeSync(fd, chunk);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
            throw error;
          }
        }
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  it('refuses with 503 while full, keeps only what it acknowledged, and recovers when space returns', async function () {
    receiver = await startWebhookReceiver();
    server = await startTestServer({ TRIGGERS_DATA_DIR: mountPoint! });
    const { apiKey } = await server.createCustomer();
    const subscribed = await server.request('POST', '/api/v1/subscriptions', {
      apiKey,
      json: { event_selector: { type: 'event_type', value: 'disk.test' }, webhook_url: receiver.url() },
    });
    assert.equal(subscribed.status, 201, subscribed.text);
    assert.equal((await server.request('GET', '/ready')).status, 200);

    fillDisk();
    // The WAL may still have room for a few commits: post large events until one is refused.
    const accepted: string[] = [];
    const blob = 'x'.repeat(60_000);
    let refused: Awaited<ReturnType<TestServer['request']>> | undefined;
    for (let i = 0; i < 500 && !refused; i++) {
      const response = await server.request('POST', '/api/v1/events', { apiKey, json: { payload: { event_type: 'disk.test', i, blob } } });
      if (response.status === 202) accepted.push(response.body.event_id);
      else refused = response;
    }
    assert.ok(refused, 'a full disk refused an event');
    assert.equal(refused.status, 503, refused.text);
    assert.equal(refused.body.code, 'unavailable');
    assert.match(refused.body.detail, /storage is full/);
    assert.doesNotMatch(refused.text, /SQLITE|sqlite|triggers\.db|\/tmp/, 'no engine, file or path in the answer');

    // Refused again with an Idempotency-Key: that key must not be remembered either.
    const keyed = await server.request('POST', '/api/v1/events', { apiKey, json: { payload: { event_type: 'disk.test', keyed: true, blob } }, headers: { 'Idempotency-Key': 'disk-full-1' } });
    assert.equal(keyed.status, 503, keyed.text);

    const ready = await server.request('GET', '/ready');
    assert.equal(ready.status, 503, ready.text);
    assert.deepEqual(ready.body.checks.find((c: { name: string }) => c.name === 'sqlite'), { name: 'sqlite', ok: false, error: 'storage full' });

    // Space returns: no restart.
    fs.rmSync(filler());
    await waitUntil(async () => (await server!.request('GET', '/ready')).status === 200, { timeoutMs: 10_000, intervalMs: 200, what: '/ready 200 once space returned' });
    const retried = await server.request('POST', '/api/v1/events', { apiKey, json: { payload: { event_type: 'disk.test', keyed: true, blob } }, headers: { 'Idempotency-Key': 'disk-full-1' } });
    assert.equal(retried.status, 202, retried.text);
    const replayed = await server.request('POST', '/api/v1/events', { apiKey, json: { payload: { event_type: 'disk.test', keyed: true, blob } }, headers: { 'Idempotency-Key': 'disk-full-1' } });
    assert.equal(replayed.body.event_id, retried.body.event_id, 'the key now names the one event');
    accepted.push(retried.body.event_id);

    // Exactly the acknowledged events exist (nothing of the refused ones), and each is delivered once.
    const inbox = await server.request('GET', '/api/v1/inbox?limit=1000', { apiKey });
    assert.equal(inbox.status, 200, inbox.text);
    assert.deepEqual(inbox.body.events.map((e: { event_id: string }) => e.event_id).sort(), [...accepted].sort());
    const delivered = await receiver.waitFor(accepted.length, 60_000);
    const ids = delivered.flatMap((r) => (JSON.parse(r.body) as { event_id: string }[]).map((e) => e.event_id));
    assert.deepEqual([...new Set(ids)].sort(), [...accepted].sort());
  });
});
