import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from '@triggers/all-in-one/test-server';
import { startWebhookReceiver, verifySignature, type WebhookReceiver } from '@triggers/testkit';
import { main } from './main.ts';
import { EXIT } from './exit-codes.ts';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/triggers.mjs');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The real command, as `npx triggers` runs it, in its own process. */
function triggers(args: string[], env: Record<string, string>, input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, TRIGGERS_CONFIG: '/nonexistent/triggers.json', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** A long-running command (listen, inbox --follow): its output as it comes, and a way to stop it. */
function startTriggers(args: string[], env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, TRIGGERS_CONFIG: '/nonexistent/triggers.json', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (c) => (out.stdout += c));
  child.stderr!.on('data', (c) => (out.stderr += c));
  let exitCode: { value: number | null } | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      exitCode = { value: code };
      resolve(code);
    }),
  );
  return {
    out,
    /** Set once the process has exited by itself. */
    exited: () => exitCode,
    lines: () => out.stdout.split('\n').filter(Boolean),
    async stop(): Promise<number | null> {
      child.kill('SIGINT');
      return exited;
    },
  };
}

/** `what` may be a function, so the timeout message shows the output as it is then, not when waiting began. */
async function waitFor<T>(check: () => T | undefined | false, what: string | (() => string), timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** `main` in this process, with captured output: for help and usage checks that need no server. */
async function runInProcess(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += c));
  stderr.on('data', (c) => (err += c));
  const code = await main(['node', 'triggers', ...args], { stdout, stderr, stdin: Object.assign(new PassThrough(), { isTTY: true }), env: { TRIGGERS_CONFIG: '/nonexistent/triggers.json', ...env } });
  return { code, stdout: out, stderr: err };
}

describe('triggers CLI', function () {
  this.timeout(60_000);
  let server: TestServer;
  let receiver: WebhookReceiver;
  let env: Record<string, string>;

  before(async () => {
    server = await startTestServer();
    receiver = await startWebhookReceiver();
  });
  beforeEach(async () => {
    const customer = await server.createCustomer();
    env = { TRIGGERS_URL: server.url, TRIGGERS_API_KEY: customer.apiKey };
  });
  after(async () => {
    await receiver?.close();
    await server?.close();
  });

  it('listen --forward-to POSTs each matching event, signed so standardwebhooks verifies it, within 1 s of the 202', async () => {
    const listen = startTriggers(['--json', 'listen', '--forward-to', receiver.url('/local'), '--event-type', 'order.*'], env);
    try {
      const ready = JSON.parse(await waitFor(() => listen.lines().find((l) => l.includes('"ready"')), () => `the ready line (${listen.out.stderr})`));
      assert.match(ready.secret, /^whsec_/);
      const before = receiver.requests.length;
      await server.request('POST', '/api/v1/events', { apiKey: env.TRIGGERS_API_KEY, json: { payload: { event_type: 'invoice.paid' } } });
      const response = await server.request('POST', '/api/v1/events', { apiKey: env.TRIGGERS_API_KEY, json: { payload: { event_type: 'order.created', amount: 42 } } });
      const acceptedAt = Date.now();
      assert.equal(response.status, 202, response.text);
      const [request] = (await receiver.waitFor(before + 1, 5000)).slice(before);
      const latency = request.receivedAt - acceptedAt;
      assert.ok(latency < 1000, `forwarded ${latency} ms after the 202`);
      assert.equal(request.path, '/local');
      assert.equal(request.headers['user-agent'], 'Zapier-Triggers-API/1.0');
      assert.equal(request.headers['content-type'], 'application/json');
      const verified = verifySignature(request, ready.secret) as { event_id: string; payload: unknown; customer_id: string; timestamp: string }[];
      assert.equal(verified.length, 1);
      assert.equal(verified[0].event_id, response.body.event_id);
      assert.deepEqual(verified[0].payload, { event_type: 'order.created', amount: 42 });
      assert.deepEqual(Object.keys(verified[0]).sort(), ['customer_id', 'event_id', 'payload', 'timestamp']);
      const forwarded = JSON.parse(await waitFor(() => listen.lines().find((l) => l.includes('"forwarded"')), 'the forwarded line'));
      assert.equal(forwarded.event_id, response.body.event_id);
      assert.equal(forwarded.status, 200);
      assert.equal(typeof forwarded.latency_ms, 'number');
      await new Promise((resolve) => setTimeout(resolve, 600));
      assert.equal(receiver.requests.length, before + 1, 'the invoice.paid event was not forwarded');
    } finally {
      assert.equal(await listen.stop(), 0, 'SIGINT ends listen with exit 0');
    }
    const subscriptions = await server.request('GET', '/api/v1/subscriptions', { apiKey: env.TRIGGERS_API_KEY });
    assert.deepEqual(subscriptions.body.subscriptions, [], 'listen leaves no subscription behind');
  });

  it('listen --secret signs with the given secret; a refused local request is reported, not fatal', async () => {
    const secret = 'whsec_' + Buffer.from('a secret of at least 24 bytes!').toString('base64');
    const listen = startTriggers(['listen', '--forward-to', 'http://127.0.0.1:9/unreachable', '--secret', secret], env);
    try {
      await waitFor(() => listen.out.stderr.includes('Ready.'), 'ready');
      // The secret is the next stderr line, which may arrive in a later chunk than "Ready.".
      await waitFor(() => listen.out.stderr.includes(`Webhook signing secret for this session: ${secret}`), () => `the secret line (${listen.out.stderr})`);
      const response = await server.request('POST', '/api/v1/events', { apiKey: env.TRIGGERS_API_KEY, json: { payload: { any: 1 } } });
      const line = await waitFor(() => listen.lines().find((l) => l.includes(response.body.event_id)), 'the failure line');
      assert.match(line, /failed/);
    } finally {
      assert.equal(await listen.stop(), 0);
    }
  });

  it('send prints the event id; NDJSON on stdin goes in batches of at most 500 and prints every id', async () => {
    const one = await triggers(['send', '{"event_type":"order.created","n":0}'], env);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout.trim(), /^[0-9a-f-]{36}$/);
    const lines = Array.from({ length: 620 }, (_, i) => JSON.stringify({ event_type: 'bulk', i })).join('\n') + '\n\n';
    const many = await triggers(['send'], env, lines);
    assert.equal(many.code, 0, many.stderr);
    const ids = many.stdout.trim().split('\n');
    assert.equal(ids.length, 620);
    assert.equal(new Set(ids).size, 620);
    const inbox = await triggers(['--json', 'inbox', '--limit', '1000'], env);
    assert.equal(inbox.code, 0, inbox.stderr);
    assert.equal(JSON.parse(inbox.stdout).events.length, 621);
  });

  it('inbox prints a table, filters, and --follow prints new events as they are accepted', async () => {
    await triggers(['send', '{"event_type":"a"}'], env);
    await triggers(['send', '{"event_type":"b"}'], env);
    const table = await triggers(['inbox', '--event-type', 'b'], env);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^EVENT ID\s+TIMESTAMP\s+STATUS\s+ATTEMPTS\s+EVENT TYPE\n/);
    assert.equal(table.stdout.trim().split('\n').length, 2, table.stdout);
    const follow = startTriggers(['--json', 'inbox', '--follow'], env);
    try {
      await waitFor(() => follow.lines().length >= 2, 'the latest events');
      await waitFor(() => follow.out.stderr.length > 0 || follow.lines().length >= 2, 'following');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const response = await server.request('POST', '/api/v1/events', { apiKey: env.TRIGGERS_API_KEY, json: { payload: { event_type: 'c' } } });
      await waitFor(() => follow.lines().some((l) => l.includes(response.body.event_id)), 'the new event');
      const ids = follow.lines().map((l) => JSON.parse(l).event_id);
      assert.equal(new Set(ids).size, ids.length, 'no event twice');
      assert.equal(ids.length, 3);
    } finally {
      assert.equal(await follow.stop(), 0);
    }
  });

  it('events get / replay, subscriptions create / list / rotate-secret / disable, and verify of a saved webhook', async () => {
    const created = await triggers(['--json', 'subscriptions', 'create', '--webhook-url', receiver.url('/cli'), '--event-type', 'cli.test'], env);
    assert.equal(created.code, 0, created.stderr);
    const subscription = JSON.parse(created.stdout);
    assert.match(subscription.secret, /^whsec_/);
    const list = await triggers(['subscriptions', 'list'], env);
    assert.match(list.stdout, new RegExp(subscription.workflow_id));

    const before = receiver.requests.length;
    const sent = await triggers(['send', '{"event_type":"cli.test","x":1}'], env);
    const eventId = sent.stdout.trim();
    const [request] = (await receiver.waitFor(before + 1, 10_000)).slice(before);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'triggers-cli-'));
    try {
      const saved = path.join(dir, 'webhook.json');
      writeFileSync(saved, JSON.stringify({ headers: request.headers, body: request.body }));
      const valid = await triggers(['verify', '--secret', subscription.secret, '--request', saved], env);
      assert.equal(valid.code, EXIT.ok, valid.stderr);
      assert.match(valid.stdout, /^valid/);
      writeFileSync(saved, JSON.stringify({ headers: request.headers, body: request.body.replace('"x":1', '"x":2') }));
      const tampered = await triggers(['verify', '--secret', subscription.secret, '--request', saved], env);
      assert.equal(tampered.code, EXIT.invalidSignature, tampered.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const details = await triggers(['--json', 'events', 'get', eventId], env);
    assert.equal(details.code, 0, details.stderr);
    assert.equal(JSON.parse(details.stdout).event_id, eventId);
    const replay = await triggers(['events', 'replay', eventId], env);
    assert.equal(replay.code, 0, replay.stderr);
    await receiver.waitFor(before + 2, 10_000);

    const rotated = await triggers(['--json', 'subscriptions', 'rotate-secret', subscription.workflow_id], env);
    assert.notEqual(JSON.parse(rotated.stdout).secret, subscription.secret);
    const disabled = await triggers(['--json', 'subscriptions', 'disable', subscription.workflow_id], env);
    assert.equal(JSON.parse(disabled.stdout).status, 'disabled');
  });

  it('replays create --wait follows the job to completed and prints the counts; get; cancel of a finished job leaves it; a refused filter exits 3, an unknown id 5', async () => {
    const startTime = new Date(Date.now() - 1000).toISOString();
    const created = await triggers(['--json', 'subscriptions', 'create', '--webhook-url', receiver.url('/cli-replay'), '--event-type', 'cli.replay'], env);
    assert.equal(created.code, 0, created.stderr);
    const sent = await triggers(['send'], env, ['{"event_type":"cli.replay","n":1}', '{"event_type":"cli.replay","n":2}', '{"event_type":"cli.other"}'].join('\n'));
    assert.equal(sent.code, 0, sent.stderr);
    const eventIds = sent.stdout.trim().split('\n').slice(0, 2);
    const delivered = () => receiver.requests.filter((r) => r.path === '/cli-replay').flatMap((r) => (JSON.parse(r.body) as { event_id: string }[]).map((e) => e.event_id));
    await waitFor(() => delivered().length >= 2, 'the two first deliveries');

    const endTime = new Date(Date.now() + 60_000).toISOString();
    const replay = await triggers(['--json', 'replays', 'create', '--start', startTime, '--end', endTime, '--event-type', 'cli.replay', '--settled'], env);
    assert.equal(replay.code, EXIT.ok, replay.stderr);
    const job = JSON.parse(replay.stdout);
    assert.equal(job.status, 'completed');
    assert.equal(job.settled, true, '--settled waits for the deliveries to end');
    assert.deepEqual(job.counts, { matched: 2, enqueued: 2, processed: 2, unmatched: 0, deliveries: 2, delivered: 2, failed: 0 });
    assert.deepEqual(job.filter, { start_time: startTime, end_time: endTime, event_type: 'cli.replay' });
    assert.match(replay.stderr, new RegExp(`Replay ${job.replay_id} started`));
    assert.equal(delivered().length, 4, 'the two replayed deliveries are in when --settled returns');
    assert.deepEqual(delivered().slice(2).sort(), [...eventIds].sort());

    const got = await triggers(['replays', 'get', job.replay_id], env);
    assert.equal(got.code, EXIT.ok, got.stderr);
    assert.match(got.stdout, /^REPLAY\s+STATUS\s+MATCHED\s+ENQUEUED\s+PROCESSED\s+UNMATCHED\s+DELIVERIES\s+DELIVERED\s+FAILED\s+SETTLED/);
    assert.match(got.stdout, new RegExp(`${job.replay_id}\\s+completed\\s+2\\s+2\\s+2\\s+0\\s+2\\s+2\\s+0\\s+yes\\s`));
    const cancelled = await triggers(['--json', 'replays', 'cancel', job.replay_id], env);
    assert.equal(cancelled.code, EXIT.ok, cancelled.stderr);
    assert.equal(JSON.parse(cancelled.stdout).status, 'completed', 'a finished job stays as it was');

    const backwards = await triggers(['replays', 'create', '--start', '2026-03-02T00:00:00Z', '--end', '2026-03-01T00:00:00Z'], env);
    assert.equal(backwards.code, EXIT.rejected);
    assert.match(backwards.stderr, /^error: 400 invalid_request: filter\.start_time: must be before end_time/);
    const unknown = await triggers(['replays', 'get', '00000000-0000-4000-8000-000000000000'], env);
    assert.equal(unknown.code, EXIT.notFound);
    assert.equal((await runInProcess(['replays', 'create', '--end', endTime])).code, EXIT.usage, 'without --start');
  });

  it('replays cancel stops a running job, and create --wait then exits 1 saying it ended cancelled', async () => {
    const startTime = new Date(Date.now() - 1000).toISOString();
    const payloads = Array.from({ length: 1500 }, (_, n) => JSON.stringify({ event_type: 'cli.unsubscribed', n }));
    const sent = await triggers(['send'], env, payloads.join('\n'));
    assert.equal(sent.code, 0, sent.stderr);
    // Paced at 200 events/s by default: 1,500 events keep the job running for about 7 s.
    const waiting = startTriggers(['--json', 'replays', 'create', '--start', startTime, '--end', new Date(Date.now() + 60_000).toISOString(), '--wait'], env);
    const replayId = await waitFor(() => /Replay ([0-9a-f-]{36}) started/.exec(waiting.out.stderr)?.[1], () => `the replay to start: ${waiting.out.stderr}`);
    const cancel = await triggers(['--json', 'replays', 'cancel', replayId], env);
    assert.equal(cancel.code, EXIT.ok, cancel.stderr);
    const afterCancel = JSON.parse(cancel.stdout);
    assert.equal(afterCancel.status, 'cancelled');
    assert.ok(afterCancel.counts.enqueued < 1500, `stopped part-way: ${afterCancel.counts.enqueued} enqueued`);
    const code = await waitFor(() => waiting.exited(), 'create --wait to exit');
    assert.equal(code.value, EXIT.failure, waiting.out.stderr);
    assert.match(waiting.out.stderr, new RegExp(`error: replay ${replayId} ended cancelled`));
    assert.equal(JSON.parse(waiting.out.stdout).status, 'cancelled');
  });

  it('exits with stable codes: 4 for a bad key, 5 for an unknown event, 2 for bad input, 6 when unreachable', async () => {
    const badKey = await triggers(['inbox'], { ...env, TRIGGERS_API_KEY: 'sk_test_' + 'x'.repeat(40) });
    assert.equal(badKey.code, EXIT.unauthorized, badKey.stderr);
    const missing = await triggers(['--json', 'events', 'get', '01890000-0000-7000-8000-000000000000'], env);
    assert.equal(missing.code, EXIT.notFound);
    assert.equal(JSON.parse(missing.stderr).error.code, 'not_found');
    const notJson = await triggers(['send', '{nope'], env);
    assert.equal(notJson.code, EXIT.usage);
    const unreachable = await triggers(['--timeout', '2', 'inbox'], { ...env, TRIGGERS_URL: 'http://127.0.0.1:9' });
    assert.equal(unreachable.code, EXIT.unavailable, unreachable.stderr);
  });

  it('has --help for every command, and reads the connection from a profile file', async () => {
    const commands = [[], ['send'], ['inbox'], ['events'], ['events', 'get'], ['events', 'replay'], ['subscriptions'], ['subscriptions', 'list'], ['subscriptions', 'create'], ['subscriptions', 'rotate-secret'], ['subscriptions', 'disable'], ['subscriptions', 'delete'], ['replays'], ['replays', 'create'], ['replays', 'get'], ['replays', 'cancel'], ['verify'], ['listen']];
    for (const command of commands) {
      const help = await runInProcess([...command, '--help']);
      assert.equal(help.code, 0, `${command.join(' ')} --help: ${help.stderr}`);
      assert.match(help.stdout, new RegExp(`Usage: triggers ${command.join(' ')}`.trim()), command.join(' '));
    }
    assert.equal((await runInProcess(['no-such-command'])).code, EXIT.usage);
    assert.equal((await runInProcess(['listen'])).code, EXIT.usage, 'listen without --forward-to');

    const dir = mkdtempSync(path.join(os.tmpdir(), 'triggers-profile-'));
    try {
      const file = path.join(dir, 'config.json');
      writeFileSync(file, JSON.stringify({ profiles: { staging: { url: env.TRIGGERS_URL, api_key: env.TRIGGERS_API_KEY } } }));
      const viaProfile = await triggers(['--profile', 'staging', '--json', 'inbox'], { TRIGGERS_CONFIG: file, TRIGGERS_URL: '', TRIGGERS_API_KEY: '' });
      assert.equal(viaProfile.code, 0, viaProfile.stderr);
      assert.deepEqual(JSON.parse(viaProfile.stdout).events, []);
      const noProfile = await triggers(['--profile', 'prod', 'inbox'], { TRIGGERS_CONFIG: file });
      assert.equal(noProfile.code, EXIT.usage);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
