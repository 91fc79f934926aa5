/**
 * One chaos drill on one backend combination: the four services as separate processes
 * (testkit's `startServiceProcesses`) on real engines, the three receivers, the load and the
 * faults together, then a wait for every event to settle and the verdict (verdict.ts).
 *
 * The drill never stops or restarts a shared engine: the PostgreSQL it restarts is an instance
 * of its own (testkit's `startEngineInstance`, on a port and in a folder of its own), and so is
 * its DynamoDB (moto answers one request at a time, so the drill's load would stall other users of
 * a shared one); Redis, Kafka and SQS are the shared ones, each run in a space of its own
 * (`prepareBackends`). SQS is cut (through a proxy), not restarted: ElasticMQ keeps its queues in
 * memory, so a restart would lose messages no real SQS loses.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { httpClient } from '@triggers/core/testing';
import { loadConfig } from '@triggers/core/runtime';
import {
  newCustomer,
  prepareBackends,
  startEngineInstance,
  startServiceProcesses,
  startTcpProxy,
  subscribe,
  type EngineAddresses,
  type EngineInstance,
  type PreparedBackends,
  type ServiceProcesses,
  type TcpProxy,
} from '@triggers/testkit';
import type { BackendPreset } from '../lib/backends.ts';
import { startFaults, type Fault } from './faults.ts';
import { runLoad, type LoadCustomer, type LoadResult } from './load.ts';
import { RECEIVER_KINDS, startChaosReceiver, unarrived, type ChaosReceiver, type Receipt, type ReceiverKind } from './receivers.ts';
import { assess, type AttemptSeen, type DeliveryRules, type Verdict } from './verdict.ts';

export interface DrillOptions {
  preset: BackendPreset;
  /** The shared engines (the drill's own PostgreSQL replaces `postgresUrl`). */
  engines: EngineAddresses;
  rate: number;
  durationMs: number;
  customers: number;
  batchSize: number;
  killEveryMs: readonly [number, number];
  failRate: number;
  slowMs: number;
  /** How long the receiver's network (and, on SQS, the queue's) stays cut. */
  cutMs: number;
  /** How long the drill's PostgreSQL stays down when it is restarted. */
  engineDownMs: number;
  /** How long to wait after the load for every acknowledged event to settle. */
  settleTimeoutMs: number;
  /** Settings for every service process, over the drill's own (see `DRILL_SETTINGS`). */
  serviceEnv: Record<string, string>;
  /** Run the services from these bundles (service-bundles.ts); undefined: through tsx. */
  bundleDir?: string;
  /** Progress lines (stderr in the command line). */
  log: (line: string) => void;
}

/** Short retries so a run settles in a minute; the rest are the services' defaults. */
export const DRILL_SETTINGS: Record<string, string> = {
  TRIGGERS_DEMO: '0',
  TRIGGERS_RETRY_BASE_MS: '500',
  TRIGGERS_RETRY_MAX_DELAY_MS: '4000',
  TRIGGERS_MAX_ATTEMPTS: '5',
  TRIGGERS_WEBHOOK_TIMEOUT_MS: '5000',
  // The dual-write backends rely on the sweeper for an event stored but not enqueued (ingest
  // killed between the two writes): 15 s instead of 5 min keeps the drill short.
  TRIGGERS_PENDING_SWEEP_AFTER_MS: '15000',
};

export interface Recovery {
  fault: Fault;
  /** The fault's own outage: the process answering /health again, the engine answering, the network restored. */
  backMs?: number;
  /** From the fault to the first webhook of an event accepted after the fault began (or, for a cut receiver, its first webhook after the cut). */
  resumedMs?: number;
}

export interface DrillResult {
  preset: string;
  settings: Record<string, string>;
  load: Omit<LoadResult, 'acked'>;
  faults: Fault[];
  recoveries: Recovery[];
  /** From the end of the load until no event was pending (undefined: it never happened). */
  settledMs?: number;
  verdict: Verdict;
  /** The services' last output, when something went wrong. */
  diagnostics?: string;
}

/**
 * Why a run failed (empty: it passed): an acknowledged event lost, a failure outside the delivery
 * rules, events that never settled, or a fault whose target never came back (a killed service that
 * did not start again hides every later loss from the drill).
 */
export function failures(result: Pick<DrillResult, 'verdict' | 'settledMs' | 'faults'>): string[] {
  const reasons: string[] = [];
  if (result.verdict.lost > 0) reasons.push(`${result.verdict.lost} lost`);
  if (result.verdict.failedOutsideRules > 0) reasons.push(`${result.verdict.failedOutsideRules} failed outside the rules`);
  if (result.settledMs === undefined) reasons.push('not settled');
  const neverBack = result.faults.filter((f) => f.backAt === undefined);
  if (neverBack.length > 0) reasons.push(`never back: ${neverBack.map((f) => f.target).join(', ')}`);
  return reasons;
}

/** The receiver of customer `index` (round-robin over the three). */
export const receiverOf = (index: number): ReceiverKind => RECEIVER_KINDS[index % RECEIVER_KINDS.length];

/** Runs `work`, then every clean-up step in reverse order (each bounded, each attempted). */
async function withCleanups<T>(work: (defer: (step: () => Promise<unknown>) => void) => Promise<T>): Promise<T> {
  const steps: (() => Promise<unknown>)[] = [];
  try {
    return await work((step) => steps.push(step));
  } finally {
    for (const step of steps.reverse()) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([step(), new Promise((resolve) => (timer = setTimeout(resolve, 60_000)))]).catch(() => undefined);
      clearTimeout(timer);
    }
  }
}

export function runDrill(options: DrillOptions): Promise<DrillResult> {
  return withCleanups(async (defer) => {
    const { preset, log } = options;
    const choice = preset.choice;
    const usesPostgres = choice.eventStore === 'postgres' || choice.metadataStore === 'postgres';
    let postgres: EngineInstance | undefined;
    const engines = { ...options.engines };
    if (usesPostgres) {
      log('starting a PostgreSQL instance of the drill’s own (it is restarted during the run)');
      postgres = await startEngineInstance('postgres');
      defer(() => postgres!.destroy());
      engines.postgresUrl = postgres.url;
    }
    if (choice.eventStore === 'dynamodb') {
      // moto serves one request at a time: the drill's load on the shared one would stall other tests.
      log('starting a DynamoDB (moto) server of the drill’s own');
      const dynamodb = await startEngineInstance('dynamodb');
      defer(() => dynamodb.destroy());
      engines.dynamodbEndpoint = dynamodb.url;
    }
    const backends: PreparedBackends = await prepareBackends(choice, engines, `chaos-${preset.name}`);
    defer(() => backends.cleanup());

    const receipts: Receipt[] = [];
    const receivers = new Map<ReceiverKind, ChaosReceiver>();
    for (const kind of RECEIVER_KINDS) {
      const receiver = await startChaosReceiver(kind, { failRate: options.failRate, slowMs: options.slowMs }, (r) => receipts.push(r));
      defer(() => receiver.close());
      receivers.set(kind, receiver);
    }
    const steadyProxy = await startTcpProxy({ host: '127.0.0.1', port: receivers.get('steady')!.port });
    defer(() => steadyProxy.close());
    const cuts: { name: string; proxy: TcpProxy; at: number; forMs: number }[] = [{ name: 'steady receiver', proxy: steadyProxy, at: 0.6, forMs: options.cutMs }];
    const queueEnv: Record<string, string> = {};
    if (choice.queue === 'sqs') {
      // Every service reaches SQS through a proxy, cut once: the queue endpoint goes away for all.
      const sqs = new URL(backends.env.TRIGGERS_SQS_ENDPOINT);
      const sqsProxy = await startTcpProxy({ host: sqs.hostname, port: Number(sqs.port) });
      defer(() => sqsProxy.close());
      queueEnv.TRIGGERS_SQS_ENDPOINT = sqsProxy.url;
      cuts.push({ name: 'SQS endpoint', proxy: sqsProxy, at: 0.8, forMs: options.cutMs });
    }
    const urlOf = (kind: ReceiverKind) => `http://127.0.0.1:${kind === 'steady' ? steadyProxy.port : receivers.get(kind)!.port}/hook`;

    const settings = { ...DRILL_SETTINGS, ...options.serviceEnv };
    const env = { ...backends.env, ...settings, ...queueEnv };
    const config = loadConfig(env);
    const rules: DeliveryRules = {
      maxAttempts: config.delivery.maxAttempts,
      retryBaseMs: config.delivery.retryBaseMs,
      retryMaxDelayMs: config.delivery.retryMaxDelayMs,
      webhookTimeoutMs: config.delivery.timeoutMs,
      visibilityTimeoutMs: config.queue.visibilityTimeoutMs,
      breakerResetMs: config.delivery.breaker.resetMs,
    };

    log(`starting ingest, inbox, matcher and deliverer (${preset.name}, ${options.bundleDir ? 'bundles' : 'tsx'})`);
    const services: ServiceProcesses = await startServiceProcesses({ env, startTimeoutMs: 120_000, bundleDir: options.bundleDir });
    defer(() => services.stop());
    const admin = httpClient(services.inbox.url, services.adminToken);

    const customers: LoadCustomer[] = [];
    for (let index = 0; index < options.customers; index++) {
      const customer = await newCustomer(admin, `chaos customer ${index}`);
      await subscribe(admin, customer.apiKey, customer.eventType, urlOf(receiverOf(index)));
      customers.push({ index, apiKey: customer.apiKey, eventType: customer.eventType });
    }

    // Warm-up: one event per customer, through to its receiver, so the consumers have joined.
    // An event counts once its webhook arrived, whatever the receiver answered: the flaky receiver
    // fails all 5 attempts of an event 0.3^5 = 0.24 % of the time, and such an event (failed by the
    // rules, as the verdict allows) would otherwise hold the warm-up until it gave up.
    log('warming up: one event per customer end to end');
    const warmUp = await runLoad({ ingestUrl: () => services.ingest.url, customers, rate: 1000, durationMs: options.customers, batchSize: 1 });
    const warmIds = new Set(warmUp.acked.map((e) => e.id));
    const warmDeadline = Date.now() + 120_000;
    for (let missing = unarrived(receipts, warmIds); missing.length > 0; missing = unarrived(receipts, warmIds)) {
      if (Date.now() > warmDeadline) {
        throw new Error(`warm-up: ${missing.length} of ${warmIds.size} events never reached their receivers in 120 s (${missing.slice(0, 5).join(', ')})\n${services.diagnostics()}`);
      }
      await sleep(200);
    }

    log(`load: ${options.rate} events/s for ${options.durationMs / 1000} s over ${customers.length} customers, with faults`);
    const faults = startFaults({
      services,
      durationMs: options.durationMs,
      killEveryMs: options.killEveryMs,
      engine: postgres && { name: 'postgres', stop: () => postgres!.stop(), start: () => postgres!.start(), downMs: options.engineDownMs },
      cuts,
      onFault: (fault, phase) =>
        log(
          phase === 'begin'
            ? `  ${fault.kind} ${fault.target}`
            : `  ${fault.target} back after ${fault.backAt ? ((fault.backAt - fault.startedAt) / 1000).toFixed(1) : '?'} s${(fault.starts ?? 1) > 1 ? ` (${fault.starts} starts)` : ''}${fault.error ? ` (${fault.error})` : ''}`,
        ),
    });
    const load = await runLoad({ ingestUrl: () => services.ingest.url, customers, rate: options.rate, durationMs: options.durationMs, batchSize: options.batchSize });
    const loadEndedAt = Date.now();
    await faults.stop();
    const acked = [...warmUp.acked, ...load.acked];
    log(`load done: ${load.acked.length} events acknowledged; waiting for every event to settle`);

    // Settled: no event of any customer is pending (the inbox's own status filter).
    let settledMs: number | undefined;
    const settleDeadline = loadEndedAt + options.settleTimeoutMs;
    let lastPending = -1;
    for (;;) {
      const pending = await countPending(admin, customers);
      if (pending === 0) {
        settledMs = Date.now() - loadEndedAt;
        break;
      }
      if (pending !== lastPending) log(`  ${pending === 1000 * customers.length ? '≥' : ''}${pending} pending`);
      lastPending = pending;
      if (Date.now() > settleDeadline) break;
      await sleep(2000);
    }

    const statuses = new Map<string, string>();
    for (const customer of customers) for (const event of await listAll(admin, customer.apiKey)) statuses.set(event.event_id, event.status);
    const customerOf = new Map(acked.map((e) => [e.id, e.customer]));
    const failedAttempts = new Map<string, AttemptSeen[]>();
    for (const [id, status] of statuses) {
      const customer = customerOf.get(id);
      if (status !== 'failed' || customer === undefined) continue;
      const response = await readPatiently(admin, `/api/v1/events/${id}`, customers[customer].apiKey);
      if (response.status === 200) failedAttempts.set(id, response.body.attempts);
    }

    const verdict = assess({ acked, receiverOf: (c) => receiverOf(c), receipts, statuses, failedAttempts, faults: faults.faults, rules });
    const { acked: _acked, ...loadSummary } = load;
    const failedRun = failures({ verdict, settledMs, faults: faults.faults }).length > 0;
    return {
      preset: preset.name,
      settings,
      load: loadSummary,
      faults: faults.faults,
      recoveries: recoveries(faults.faults, acked, receipts),
      settledMs,
      verdict,
      diagnostics: failedRun ? services.diagnostics(3000) : undefined,
    };
  });
}

async function countPending(admin: ReturnType<typeof httpClient>, customers: readonly LoadCustomer[]): Promise<number> {
  let pending = 0;
  for (const customer of customers) {
    const response = await admin.request('GET', '/api/v1/inbox?status=pending&limit=1000', { apiKey: customer.apiKey }).catch(() => undefined);
    // The inbox unreachable or failing counts as "not settled yet".
    pending += response?.status === 200 ? response.body.events.length : 1;
  }
  return pending;
}

/** How long the final reads keep trying a request the inbox answers 503 (a backend slow to answer: moto under load) or not at all. */
const READ_PATIENCE_MS = 120_000;

/** GET `urlPath` until it answers other than 5xx or a connection error, for up to READ_PATIENCE_MS. */
async function readPatiently(admin: ReturnType<typeof httpClient>, urlPath: string, apiKey: string): Promise<Awaited<ReturnType<typeof admin.request>>> {
  const giveUpAt = Date.now() + READ_PATIENCE_MS;
  for (;;) {
    const response = await admin.request('GET', urlPath, { apiKey }).catch((error: Error) => ({ status: 0, text: error.message, body: undefined, headers: new Headers() }));
    if (response.status === 200 || (response.status !== 0 && response.status < 500) || Date.now() > giveUpAt) return response;
    await sleep(1000);
  }
}

async function listAll(admin: ReturnType<typeof httpClient>, apiKey: string): Promise<{ event_id: string; status: string }[]> {
  const events: { event_id: string; status: string }[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: '1000' });
    if (cursor) query.set('cursor', cursor);
    const response = await readPatiently(admin, `/api/v1/inbox?${query}`, apiKey);
    if (response.status !== 200) throw new Error(`GET /api/v1/inbox answered ${response.status}: ${response.text}`);
    events.push(...response.body.events);
    cursor = response.body.has_more ? response.body.cursor : null;
  } while (cursor);
  return events;
}

/** For each fault: how long its target was out, and how long until webhooks flowed again for new events. */
function recoveries(faults: readonly Fault[], acked: readonly { id: string; ackedAt: number }[], receipts: readonly Receipt[]): Recovery[] {
  const ackedAt = new Map(acked.map((e) => [e.id, e.ackedAt]));
  const byTime = [...receipts].sort((a, b) => a.at - b.at);
  return faults.map((fault) => {
    const receiverCut = fault.kind === 'network-cut' && fault.target.endsWith(' receiver') ? fault.target.replace(' receiver', '') : undefined;
    const first = byTime.find((r) =>
      receiverCut
        ? r.receiver === receiverCut && r.at >= (fault.backAt ?? Infinity)
        : r.at >= fault.startedAt && r.eventIds.some((id) => (ackedAt.get(id) ?? -Infinity) >= fault.startedAt),
    );
    return {
      fault,
      backMs: fault.backAt === undefined ? undefined : fault.backAt - fault.startedAt,
      resumedMs: first ? first.at - fault.startedAt : undefined,
    };
  });
}
