/**
 * The drill's verdict, a pure function of what was observed: the events that got a 202, every
 * request the receivers got, the final status of every event in the inbox, the attempts of the
 * failed ones, and the faults with their times.
 *
 * - **lost**: an acknowledged event that is not in the inbox, still `pending` when the drill gave
 *   up waiting, `unmatched` (every customer's subscription matches all its events), or
 *   `delivered` although its receiver never answered it 2xx.
 * - **failed outside the rules**: `failed` although the receiver answered it 2xx (except where
 *   that answer could not reach the deliverer: during a cut of its network, just before the
 *   deliverer was killed, or an attempt that recorded no status: a timeout or dropped connection),
 *   or with fewer than `maxAttempts` attempts and no final 4xx.
 * - **duplicates**: a `webhook-id` answered 2xx more than once (at-least-once delivery after a
 *   kill between the receiver's answer and the recorded success); the rate is per delivered
 *   webhook-id.
 * - **late**: a delivery whose first 2xx came later after its 202 than the retry schedule allows
 *   (every backoff at +20 % jitter, every attempt taking the whole webhook timeout) plus, for
 *   each fault that overlapped its life, the fault's outage and one recovery bound (the queue's
 *   visibility timeout plus the claim lease, and the breaker's reset after a network cut).
 */
import type { AckedEvent } from './load.ts';
import type { Fault } from './faults.ts';
import type { Receipt, ReceiverKind } from './receivers.ts';

export interface DeliveryRules {
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxDelayMs: number;
  webhookTimeoutMs: number;
  visibilityTimeoutMs: number;
  breakerResetMs: number;
}

export interface AttemptSeen {
  attempt: number;
  status: string;
  status_code: number | null;
}

export interface VerdictInput {
  acked: readonly AckedEvent[];
  receiverOf: (customer: number) => ReceiverKind;
  receipts: readonly Receipt[];
  /** Final status of every event in the inbox (acknowledged or not). */
  statuses: ReadonlyMap<string, string>;
  /** Attempts of the `failed` events. */
  failedAttempts: ReadonlyMap<string, readonly AttemptSeen[]>;
  faults: readonly Fault[];
  rules: DeliveryRules;
}

export interface Verdict {
  acked: number;
  delivered: number;
  failed: number;
  lost: number;
  lostByReason: Record<string, number>;
  lostSample: string[];
  failedOutsideRules: number;
  failedOutsideRulesSample: string[];
  /** Events stored although their request got no 202 (in flight when ingest was killed). */
  storedNotAcked: number;
  requests: number;
  deliveredWebhookIds: number;
  duplicateDeliveries: number;
  duplicateRate: number;
  /** 202 → first 2xx at the receiver, delivered events. */
  latencyMs: { p50: number; p99: number; max: number };
  late: number;
  lateSample: string[];
  /** The retry schedule's own bound, before fault allowances. */
  scheduleBoundMs: number;
}

/** Every backoff at its +20 % jitter ceiling, and every attempt taking the whole timeout. */
export function scheduleBoundMs(rules: DeliveryRules): number {
  let total = rules.maxAttempts * rules.webhookTimeoutMs;
  for (let attempt = 1; attempt < rules.maxAttempts; attempt++) total += Math.min(rules.retryBaseMs * 2 ** (attempt - 1), rules.retryMaxDelayMs) * 1.2;
  return Math.round(total);
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const SAMPLE = 5;

export function assess(input: VerdictInput): Verdict {
  const { rules } = input;
  const recoveryMs = rules.visibilityTimeoutMs + rules.webhookTimeoutMs + 5000;
  const firstOk = new Map<string, number>();
  const okTimes = new Map<string, number[]>();
  const okCountByWebhook = new Map<string, number>();
  for (const receipt of input.receipts) {
    if (receipt.status < 200 || receipt.status > 299) continue;
    okCountByWebhook.set(receipt.webhookId, (okCountByWebhook.get(receipt.webhookId) ?? 0) + 1);
    for (const id of receipt.eventIds) {
      if (!firstOk.has(id)) firstOk.set(id, receipt.at);
      const times = okTimes.get(id) ?? [];
      times.push(receipt.at);
      okTimes.set(id, times);
    }
  }
  let duplicateDeliveries = 0;
  for (const count of okCountByWebhook.values()) duplicateDeliveries += count - 1;

  // A 2xx the deliverer may never have read: the receiver's network was cut around it, or the
  // deliverer was killed within a webhook timeout after it.
  const answerMayBeLost = (kind: ReceiverKind, at: number) =>
    input.faults.some(
      (f) =>
        (f.kind === 'network-cut' && f.target === `${kind} receiver` && at >= f.startedAt - 1000 && at <= (f.backAt ?? Infinity) + 1000) ||
        (f.kind === 'kill' && f.target === 'deliverer' && at >= f.startedAt - rules.webhookTimeoutMs && at <= f.startedAt + 1000),
    );

  const lostByReason: Record<string, number> = {};
  const lostSample: string[] = [];
  const loseOne = (id: string, reason: string) => {
    lostByReason[reason] = (lostByReason[reason] ?? 0) + 1;
    if (lostSample.length < SAMPLE) lostSample.push(`${id} (${reason})`);
  };
  const outsideRules: string[] = [];
  const lateSample: string[] = [];
  const latencies: number[] = [];
  const ackedIds = new Set<string>();
  let delivered = 0;
  let failed = 0;
  let late = 0;
  const bound = scheduleBoundMs(rules);

  for (const event of input.acked) {
    ackedIds.add(event.id);
    const status = input.statuses.get(event.id);
    const kind = input.receiverOf(event.customer);
    const okAt = firstOk.get(event.id);
    if (status === undefined) loseOne(event.id, 'not in the inbox');
    else if (status === 'pending') loseOne(event.id, 'still pending');
    else if (status === 'unmatched') loseOne(event.id, 'unmatched');
    else if (status === 'delivered' && okAt === undefined) loseOne(event.id, 'delivered without a 2xx at the receiver');
    else if (status === 'delivered') {
      delivered++;
      const age = okAt! - event.ackedAt;
      latencies.push(age);
      const allowed =
        bound +
        input.faults
          .filter((f) => f.startedAt <= okAt! && (f.backAt ?? Infinity) >= event.ackedAt - recoveryMs)
          .reduce((sum, f) => sum + ((f.backAt ?? okAt!) - f.startedAt) + recoveryMs + (f.kind === 'network-cut' ? rules.breakerResetMs : 0), 0);
      if (age > allowed) {
        late++;
        if (lateSample.length < SAMPLE) lateSample.push(`${event.id} (${kind}: ${(age / 1000).toFixed(1)} s > ${(allowed / 1000).toFixed(1)} s)`);
      }
    } else if (status === 'failed') {
      failed++;
      const okUnread = (okTimes.get(event.id) ?? []).filter((at) => !answerMayBeLost(kind, at));
      const attempts = input.failedAttempts.get(event.id) ?? [];
      const lastAttempt = Math.max(0, ...attempts.map((a) => a.attempt));
      const finalClientError = attempts.some((a) => a.status_code !== null && a.status_code >= 400 && a.status_code < 500 && a.status_code !== 408 && a.status_code !== 429);
      // A 2xx the deliverer never read (its attempt ended in a timeout or a dropped connection:
      // no status recorded) is within the rules; one per such attempt.
      const unreadAttempts = attempts.filter((a) => a.status_code === null).length;
      const why =
        okUnread.length > unreadAttempts
          ? `its ${kind} receiver answered 2xx`
          : attempts.some((a) => a.status === 'succeeded')
            ? 'an attempt succeeded'
            : lastAttempt < rules.maxAttempts && !finalClientError
              ? `${lastAttempt} of ${rules.maxAttempts} attempts`
              : undefined;
      if (why) outsideRules.push(`${event.id} (${why})`);
    } else loseOne(event.id, `status ${status}`);
  }
  latencies.sort((a, b) => a - b);
  let storedNotAcked = 0;
  for (const id of input.statuses.keys()) if (!ackedIds.has(id)) storedNotAcked++;
  const lost = Object.values(lostByReason).reduce((a, b) => a + b, 0);
  return {
    acked: input.acked.length,
    delivered,
    failed,
    lost,
    lostByReason,
    lostSample,
    failedOutsideRules: outsideRules.length,
    failedOutsideRulesSample: outsideRules.slice(0, SAMPLE),
    storedNotAcked,
    requests: input.receipts.length,
    deliveredWebhookIds: okCountByWebhook.size,
    duplicateDeliveries,
    duplicateRate: okCountByWebhook.size === 0 ? 0 : duplicateDeliveries / okCountByWebhook.size,
    latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? 0 },
    late,
    lateSample,
    scheduleBoundMs: bound,
  };
}
