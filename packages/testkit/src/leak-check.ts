import { createHook } from 'node:async_hooks';

/**
 * A mocha root hook (scripts/test.mjs loads it with `--require`): every top-level suite of every
 * test file must leave no server, socket, timer, child process or worker open once its own
 * `after` hooks ran. It snapshots `process.getActiveResourcesInfo()` before the suite's first
 * `before` hook and compares after its last `after` hook, with a short grace period for handles
 * that are closing; what is still open fails the suite's "after all" hook, by name and count.
 * This is what lets the test run end without mocha's `--exit`.
 */

/** The resource kinds a test can leak: servers, sockets (database and engine clients), timers, children, workers. */
export const WATCHED_RESOURCES: ReadonlySet<string> = new Set([
  'TCPServerWrap',
  'TCPSocketWrap',
  'PipeServerWrap',
  'PipeWrap',
  'UDPWrap',
  'Timeout',
  'ProcessWrap',
  'Worker',
  'MessagePort',
]);

const GRACE_MS = 5000;

export type ResourceCounts = Map<string, number>;

export function countResources(types: readonly string[]): ResourceCounts {
  const counts: ResourceCounts = new Map();
  for (const type of types) if (WATCHED_RESOURCES.has(type)) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

/** What `after` holds beyond `before`, e.g. `["TCPServerWrap ×1"]`; empty when nothing was left open. */
export function leakedResources(before: ResourceCounts, after: ResourceCounts): string[] {
  const leaks: string[] = [];
  for (const [type, count] of after) {
    const extra = count - (before.get(type) ?? 0);
    if (extra > 0) leaks.push(`${type} ×${extra}`);
  }
  return leaks.sort();
}

function snapshot(): ResourceCounts {
  return countResources(process.getActiveResourcesInfo());
}

/** Polls for up to `graceMs` until nothing beyond `before` is open; returns what still is. */
export async function settleLeaks(before: ResourceCounts, graceMs = GRACE_MS, now: () => ResourceCounts = snapshot): Promise<string[]> {
  const deadline = Date.now() + graceMs;
  for (;;) {
    const leaks = leakedResources(before, now());
    if (leaks.length === 0 || Date.now() >= deadline) return leaks;
    await new Promise((resolve) => setTimeout(resolve, 25).unref());
  }
}

/**
 * With `TRIGGERS_LEAK_TRACE=1`, where each open timer was set (async_hooks, stacks captured at
 * creation: slow, so only on request) to chase a failure; mocha's own timeout timers left out.
 */
const traced = new Map<number, { stack: string; resource: { hasRef?: () => boolean } }>();
if (process.env.TRIGGERS_LEAK_TRACE === '1') {
  createHook({
    init(id, type, _trigger, resource) {
      if (type === 'Timeout') traced.set(id, { stack: new Error().stack?.split('\n').slice(4, 14).join('\n') ?? '', resource: resource as { hasRef?: () => boolean } });
    },
    destroy(id) {
      traced.delete(id);
    },
  }).enable();
}

function describeTimers(): string {
  const open = [...traced.values()].filter((t) => t.resource.hasRef?.() !== false && (process.env.TRIGGERS_LEAK_TRACE_ALL === '1' || !t.stack.includes('mocha/lib/runnable.js')));
  if (open.length === 0) return process.env.TRIGGERS_LEAK_TRACE === '1' ? '' : ' (set TRIGGERS_LEAK_TRACE=1 to see where the timers were set)';
  return `; timers set at:\n${open.map((t) => t.stack).join('\n  --\n')}`;
}

function watch(suite: Mocha.Suite): void {
  let before: ResourceCounts = new Map();
  // Counted once mocha armed this hook's timeout timer, as the check below is: both see one.
  suite.beforeAll('leak check: note what is open', async () => {
    await Promise.resolve();
    before = snapshot();
  });
  // Registered last, run first: the snapshot precedes the suite's own `before` hooks.
  const beforeHooks = (suite as unknown as { _beforeAll: Mocha.Hook[] })._beforeAll;
  beforeHooks.unshift(beforeHooks.pop()!);
  suite.afterAll('leak check: no server, socket, timer, child process or worker left open', async function () {
    this.timeout(GRACE_MS + 5000);
    const leaks = await settleLeaks(before);
    if (leaks.length > 0) {
      const timers = leaks.some((leak) => leak.startsWith('Timeout')) ? describeTimers() : '';
      throw new Error(`"${suite.fullTitle()}" (${suite.file ?? 'unknown file'}) left open: ${leaks.join(', ')}${timers}`);
    }
  });
}

/** How long the process may stay up after the last test before the run is failed as hanging. */
const HANG_AFTER_RUN_MS = 15_000;

export const mochaHooks = {
  beforeAll(this: Mocha.Context): void {
    const root = this.test?.parent;
    if (!root) return;
    for (const suite of root.suites) watch(suite);
  },
  afterAll(): void {
    // Without --exit a handle left open outside any checked suite keeps the process up: fail
    // loudly instead of hanging CI. Unref'd, so it never holds up a run that ends by itself.
    setTimeout(() => {
      process.stderr.write(`\nThe test run did not end by itself within ${HANG_AFTER_RUN_MS / 1000} s of its last test: still open: ${process.getActiveResourcesInfo().join(', ')}\n`);
      process.exit(process.exitCode || 1);
    }, HANG_AFTER_RUN_MS).unref();
  },
};
