import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { heldQueueMessages } from '@triggers/core/testing';

/**
 * API.md: "202 means the event is durably stored and enqueued: from then on it is never lost, and
 * ends delivered, failed or unmatched even if any process is killed at any moment."
 *
 * Runs the real all-in-one (`node --import tsx services/all-in-one/src/main.ts`) as a child
 * process, posts events from several concurrent clients, SIGKILLs the child while posts and
 * webhook deliveries are in flight, restarts it on the same data folder and port, and checks that
 * every event that got a 202 reached the webhook receiver and ends `delivered`. Requests in flight
 * at the kill (no 202 seen) may or may not exist and are not counted.
 *
 * Recovery here must come from the outbox transaction, idempotent consumers, the queue's owner
 * heartbeats and the attempt claims' short leases alone: the visibility timeout is the default
 * minute and the pending sweeper is pushed far beyond the test's horizon, so an event that only
 * those could rescue fails this test (see docs/crash-safety.md). It also times the recovery: every
 * event acknowledged before the kill must have reached the receiver within 30 s of the restart,
 * half the visibility timeout, so the held work did not wait for that timeout.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const ADMIN_TOKEN = 'crash-test-admin-token-0123456789';
/**
 * The default: the killed process's in-flight messages must come back because their owner stopped
 * heartbeating (seconds), not because this timeout ran out.
 */
const VISIBILITY_TIMEOUT_MS = 60_000;
/**
 * Issue 10: every event acknowledged before the kill reaches the receiver within this long of the
 * restart. The figure includes draining the backlog acknowledged before the kill (about 750 events
 * in a clean-clone CI run, which took 12.8 s after a 2.2 s restart), so it cannot be the 5 s that
 * the reclaim itself takes (timed in backends/sqlite/queue.test.ts: a dead owner's messages come
 * back in under a second). Half the visibility timeout still proves no held message waited for it.
 */
const RECOVERY_WITHIN_MS = 30_000;
/**
 * Issue 10 item 2: the work the killed process held (the queue messages it had received and not
 * acknowledged) is taken over within this long of the restart: its receiver's heartbeat is 3 s
 * stale by then, so those messages are visible again at once, not after the visibility timeout.
 */
const HELD_RESUMES_WITHIN_MS = 5000;
/** Every event is posted with this type; the subscription matches it. */
const EVENT_TYPE = 'crash.test';

/** The whole test stops by itself well inside mocha's timeout below. */
const TEST_BUDGET_MS = 60_000;
const POST_BEFORE_KILL_MS = [1200, 2000] as const; // randomised per run to hit different windows
const POST_AFTER_RESTART_MS = 1500;
const SINGLE_CLIENTS = 4;
const BATCH_CLIENTS = 2;
const MAX_BATCH = 20;
/** Pause between one client's requests, so deliveries keep up and the run stays short. */
const CLIENT_PAUSE_MS = 5;

/**
 * Kills the child if this test process disappears without its `after` hook running (the child
 * notices it was re-parented). Passed as an inline module so main.ts is run untouched.
 */
const EXIT_WITH_PARENT =
  'data:text/javascript,const p=process.ppid;setInterval(()=>{if(process.ppid!==p)process.kill(process.pid,"SIGKILL")},250).unref();';

interface Child {
  proc: ChildProcess;
  output: string[];
  exited: Promise<void>;
}

describe('crash safety: an acknowledged event is never lost (all-in-one child, SIGKILL mid-flight)', function () {
  this.timeout(TEST_BUDGET_MS + 2000);

  let dataDir: string;
  let port: number;
  let child: Child | undefined;
  const childLogs: string[] = [];
  let receiver: http.Server | undefined;
  let failed = false;

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'triggers-crash-'));
    port = await freePort();
  });

  afterEach(function () {
    failed ||= this.currentTest?.state === 'failed';
  });

  after(async () => {
    if (child) await killChild(child);
    child = undefined;
    if (receiver) await new Promise<void>((resolve) => receiver!.close(() => resolve()));
    receiver?.closeAllConnections();
    if (failed) {
      process.stderr.write(`\ncrash-safety: data folder kept for inspection: ${dataDir}\n`);
      const logs = childLogs.join('').slice(-8000);
      if (logs) process.stderr.write(`crash-safety: last child output:\n${logs}\n`);
    } else if (dataDir) {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  function startChild(): Child {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(process.env)) {
      if (value !== undefined && !name.startsWith('TRIGGERS_') && name !== 'PORT') env[name] = value;
    }
    Object.assign(env, {
      PORT: String(port),
      TRIGGERS_HOST: '127.0.0.1',
      TRIGGERS_DATA_DIR: dataDir,
      TRIGGERS_ADMIN_TOKEN: ADMIN_TOKEN,
      TRIGGERS_LOG_LEVEL: 'warn',
      TRIGGERS_QUEUE_VISIBILITY_TIMEOUT_MS: String(VISIBILITY_TIMEOUT_MS),
      TRIGGERS_RETRY_BASE_MS: '100',
      TRIGGERS_RETRY_MAX_DELAY_MS: '1000',
      TRIGGERS_MAX_ATTEMPTS: '10',
      TRIGGERS_WEBHOOK_TIMEOUT_MS: '2000',
      TRIGGERS_RATE_LIMIT_PER_SECOND: '1000000',
      // Far beyond this test: recovery must not depend on the sweeper.
      TRIGGERS_PENDING_SWEEP_AFTER_MS: String(3_600_000),
    });
    const proc = spawn(process.execPath, ['--import', EXIT_WITH_PARENT, '--import', 'tsx', 'services/all-in-one/src/main.ts'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    const keep = (chunk: Buffer) => {
      output.push(chunk.toString());
      childLogs.push(chunk.toString());
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    return { proc, output, exited };
  }

  it('every event that got a 202 before, during or after a SIGKILL reaches the receiver and ends delivered', async () => {
    const startedAt = Date.now();
    const deadline = startedAt + TEST_BUDGET_MS;
    const base = `http://127.0.0.1:${port}`;

    // The webhook receiver: records every event id it gets; refuses ~1 in 5 events once (HTTP 500),
    // so retries are in flight at the kill as well.
    const received = new Map<string, number>();
    /** Event id → when the receiver first answered it 200. */
    const answered200 = new Map<string, number>();
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let ids: string[] = [];
        try {
          ids = (JSON.parse(Buffer.concat(chunks).toString()) as { event_id: string }[]).map((e) => e.event_id);
        } catch {
          res.writeHead(400).end();
          return;
        }
        let refuse = false;
        for (const id of ids) {
          const count = (received.get(id) ?? 0) + 1;
          received.set(id, count);
          if (count === 1 && refusedOnce(id)) refuse = true;
        }
        if (refuse) {
          res.writeHead(500).end('try again');
          return;
        }
        for (const id of ids) if (!answered200.has(id)) answered200.set(id, Date.now());
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver!.listen(0, '127.0.0.1', () => resolve()));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

    child = startChild();
    await waitForHealth(base, child, deadline);

    const customer = await jsonRequest(base, 'POST', '/admin/test-customer', ADMIN_TOKEN, { name: 'Crash', email: 'crash@example.test' });
    assert.equal(customer.status, 201, JSON.stringify(customer.body));
    const apiKey: string = customer.body.api_key;
    const subscription = await jsonRequest(base, 'POST', '/api/v1/subscriptions', apiKey, {
      event_selector: { type: 'event_type', value: EVENT_TYPE },
      webhook_url: hookUrl,
    });
    assert.equal(subscription.status, 201, JSON.stringify(subscription.body));

    // Clients post until told to stop; only ids from a 202 they actually read count as acknowledged.
    const acked = new Set<string>();
    const stats = { requests: 0, accepted: 0, connectionErrors: 0, otherStatuses: new Map<number, number>(), inFlight: 0 };
    let posting = true;
    const client = async (kind: 'single' | 'batch', index: number) => {
      let n = 0;
      while (posting && Date.now() < deadline) {
        n++;
        const size = kind === 'single' ? 1 : 1 + ((index * 7 + n) % MAX_BATCH);
        const payloads = Array.from({ length: size }, (_, i) => ({ event_type: EVENT_TYPE, client: `${kind}-${index}`, n, i }));
        const [urlPath, body] =
          kind === 'single'
            ? ['/api/v1/events', { payload: payloads[0] }]
            : ['/api/v1/events/batch', { events: payloads.map((payload) => ({ payload })) }];
        stats.requests++;
        stats.inFlight++;
        try {
          const response = await jsonRequest(base, 'POST', urlPath, apiKey, body);
          if (response.status === 202) {
            const ids: string[] = kind === 'single' ? [response.body.event_id] : response.body.events.map((e: { event_id: string }) => e.event_id);
            assert.equal(ids.length, size);
            for (const id of ids) acked.add(id);
            stats.accepted++;
          } else {
            stats.otherStatuses.set(response.status, (stats.otherStatuses.get(response.status) ?? 0) + 1);
          }
        } catch {
          // Refused, reset or cut off by the kill: no 202 was read, so nothing is claimed about it.
          stats.connectionErrors++;
          await sleep(20);
        } finally {
          stats.inFlight--;
        }
        await sleep(CLIENT_PAUSE_MS);
      }
    };
    const clients = [
      ...Array.from({ length: SINGLE_CLIENTS }, (_, i) => client('single', i)),
      ...Array.from({ length: BATCH_CLIENTS }, (_, i) => client('batch', i)),
    ];

    // Kill mid-flight.
    const [lo, hi] = POST_BEFORE_KILL_MS;
    await sleep(lo + Math.random() * (hi - lo));
    // Clients answered by one group commit pause together: kill when posts are on the wire.
    for (let i = 0; i < 200 && stats.inFlight === 0; i++) await sleep(1);
    const atKill = { acked: acked.size, received: received.size, inFlightPosts: stats.inFlight };
    const ackedBeforeKill = [...acked];
    await killChild(child);
    const killedAt = Date.now();
    const afterKillReceived = received.size;
    // The queue messages the dead process held (received, unacknowledged): its work in hand.
    const heldAtKill = heldQueueMessages(dataDir);
    child = startChild();
    await waitForHealth(base, child, deadline);
    const restartedAt = Date.now();
    // The held work resumes when each of those messages is acknowledged or received again by the
    // new process (the dead owner's claim is void), apart from draining the backlog.
    let heldResumedAt: number | undefined;
    const watchingHeld = (async () => {
      while (Date.now() < restartedAt + HELD_RESUMES_WITHIN_MS + 1000) {
        const now = heldQueueMessages(dataDir);
        if ([...heldAtKill].every(([id, owner]) => now.get(id) !== owner)) return (heldResumedAt = Date.now());
        await sleep(50);
      }
    })();
    await sleep(POST_AFTER_RESTART_MS);
    await watchingHeld;
    posting = false;
    await Promise.all(clients);

    // Everything acknowledged must arrive and settle as delivered.
    const ackedIds = [...acked];
    let statuses = new Map<string, string>();
    for (;;) {
      const allReceived = ackedIds.every((id) => answered200.has(id));
      if (allReceived) {
        statuses = await inboxStatuses(base, apiKey);
        if (ackedIds.every((id) => statuses.get(id) === 'delivered')) break;
      }
      if (Date.now() > deadline) {
        statuses = await inboxStatuses(base, apiKey);
        break;
      }
      await sleep(200);
    }

    // Full recovery: the last event acknowledged before the kill reached the receiver (answered 200).
    const lastBeforeKillAt = Math.max(killedAt, ...ackedBeforeKill.map((id) => answered200.get(id) ?? Infinity));
    const summary = {
      acked: acked.size,
      accepted_requests: stats.accepted,
      requests: stats.requests,
      connection_errors: stats.connectionErrors,
      other_statuses: Object.fromEntries(stats.otherStatuses),
      at_kill: { ...atKill, received_by_kill_return: afterKillReceived },
      received: received.size,
      // Arrivals beyond the first (plus the retry of a deliberate 500): at-least-once duplicates from the kill.
      duplicated_by_crash: [...received.entries()].filter(([id, count]) => count > (refusedOnce(id) ? 2 : 1)).length,
      not_acked_but_stored: [...statuses.keys()].filter((id) => !acked.has(id)).length,
      restart_s: (restartedAt - killedAt) / 1000,
      recovered_after_restart_s: Math.max(0, lastBeforeKillAt - restartedAt) / 1000,
      held_at_kill: heldAtKill.size,
      held_resumed_after_kill_s: heldResumedAt === undefined ? null : (heldResumedAt - killedAt) / 1000,
      held_resumed_after_restart_s: heldResumedAt === undefined ? null : (heldResumedAt - restartedAt) / 1000,
      seconds: (Date.now() - startedAt) / 1000,
    };
    process.stdout.write(`      crash-safety: ${JSON.stringify(summary)}\n`);

    const neverArrived = ackedIds.filter((id) => !received.has(id));
    const notDelivered = ackedIds.filter((id) => statuses.get(id) !== 'delivered');
    if (neverArrived.length > 0 || notDelivered.length > 0) {
      const samples = await Promise.all(
        [...new Set([...neverArrived, ...notDelivered])].slice(0, 5).map(async (id) => (await jsonRequest(base, 'GET', `/api/v1/events/${id}`, apiKey)).body),
      );
      assert.fail(
        `${neverArrived.length} acknowledged events never reached the receiver and ${notDelivered.length} did not end delivered ` +
          `(of ${ackedIds.length}); e.g. ${JSON.stringify(samples, null, 1)}`,
      );
    }
    assert.ok(atKill.acked > 0, 'events were acknowledged before the kill');
    assert.ok(heldAtKill.size > 0, 'the killed process held queue messages');
    assert.ok(
      heldResumedAt !== undefined && heldResumedAt - restartedAt <= HELD_RESUMES_WITHIN_MS,
      `the ${heldAtKill.size} messages the killed process held were taken over ${heldResumedAt === undefined ? 'not' : `${heldResumedAt - restartedAt} ms after the restart, not`} within ${HELD_RESUMES_WITHIN_MS} ms`,
    );
    assert.ok(
      lastBeforeKillAt - restartedAt <= RECOVERY_WITHIN_MS,
      `the work held at the kill resumed ${lastBeforeKillAt - restartedAt} ms after the restart (promised ${RECOVERY_WITHIN_MS} ms)`,
    );
    assert.ok(acked.size > atKill.acked, 'events were acknowledged after the restart');
  });
});

/** Deterministic: about one event in five is refused (HTTP 500) on its first arrival. */
function refusedOnce(eventId: string): boolean {
  return createHash('sha256').update(eventId).digest()[0] % 5 === 0;
}

async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function killChild(child: Child): Promise<void> {
  if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL');
  await child.exited;
}

async function waitForHealth(base: string, child: Child, deadline: number): Promise<void> {
  for (;;) {
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) {
      throw new Error(`the all-in-one exited during start-up:\n${child.output.join('').slice(-4000)}`);
    }
    try {
      const response = await fetch(`${base}/health`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the all-in-one did not become healthy:\n${child.output.join('').slice(-4000)}`);
    await sleep(50);
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function jsonRequest(base: string, method: string, urlPath: string, bearer: string, json?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(base + urlPath, {
    method,
    headers: { authorization: `Bearer ${bearer}`, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
    body: json === undefined ? undefined : JSON.stringify(json),
    signal: AbortSignal.timeout(5000),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** Every event of the customer with its status, by following the inbox cursor to the end. */
async function inboxStatuses(base: string, apiKey: string): Promise<Map<string, string>> {
  const statuses = new Map<string, string>();
  let cursor: string | null = null;
  do {
    const query: string = `?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = await jsonRequest(base, 'GET', `/api/v1/inbox${query}`, apiKey);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    for (const event of page.body.events as { event_id: string; status: string }[]) statuses.set(event.event_id, event.status);
    cursor = page.body.has_more ? page.body.cursor : null;
  } while (cursor);
  return statuses;
}
