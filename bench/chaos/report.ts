/** The drill's summary: a few lines per backend combination, for a terminal and for docs/crash-safety.md. */
import { failures, type DrillResult } from './drill.ts';

const s = (ms: number | undefined) => (ms === undefined ? 'never' : `${(ms / 1000).toFixed(1)} s`);

/** `min / median / max` of some durations. */
function spread(values: (number | undefined)[]): string {
  const known = values.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  const never = values.length - known.length;
  if (known.length === 0) return never > 0 ? `never (${never})` : '–';
  const median = known[Math.floor((known.length - 1) / 2)];
  return `${s(known[0])} / ${s(median)} / ${s(known.at(-1))}${never > 0 ? `, ${never} never` : ''}`;
}

/** `, 2 failed starts tried again` when a killed service needed more than one start. */
function retried(kills: readonly { fault: { starts?: number } }[]): string {
  const extra = kills.reduce((sum, k) => sum + Math.max(0, (k.fault.starts ?? 1) - 1), 0);
  return extra > 0 ? ` (${extra} failed start${extra === 1 ? '' : 's'} tried again)` : '';
}

export function formatResult(result: DrillResult): string {
  const v = result.verdict;
  const failed = failures(result);
  const kills = result.recoveries.filter((r) => r.fault.kind === 'kill');
  const others = result.recoveries.filter((r) => r.fault.kind !== 'kill');
  const notAcked = Object.entries(result.load.notAcked).map(([why, n]) => `${n} ${why}`).join(', ') || 'none';
  const killCounts = new Map<string, number>();
  for (const k of kills) killCounts.set(k.fault.target, (killCounts.get(k.fault.target) ?? 0) + 1);
  const lines = [
    `== chaos drill: ${result.preset} — ${failed.length === 0 ? 'PASS' : `FAIL (${failed.join('; ')})`}`,
    `events: ${v.acked} acknowledged (${(v.acked / result.load.seconds).toFixed(0)}/s over ${result.load.seconds.toFixed(0)} s), not acknowledged: ${notAcked}${result.load.notSent ? `, ${result.load.notSent} not sent (client at its in-flight limit)` : ''}; ${v.storedNotAcked} stored without a 202`,
    `outcome: ${v.delivered} delivered, ${v.failed} failed (${v.failedOutsideRules} outside the rules), lost ${v.lost}${v.lost ? ` (${Object.entries(v.lostByReason).map(([why, n]) => `${n} ${why}`).join(', ')})` : ''}; settled ${s(result.settledMs)} after the load`,
    `duplicates: ${v.duplicateDeliveries} of ${v.deliveredWebhookIds} delivered webhook-ids answered 2xx more than once (rate ${(v.duplicateRate * 100).toFixed(3)} %); ${v.requests} webhook requests in all`,
    `202 → first 2xx: p50 ${s(v.latencyMs.p50)}, p99 ${s(v.latencyMs.p99)}, max ${s(v.latencyMs.max)}; later than the retry schedule allows (${s(v.scheduleBoundMs)} + fault allowances): ${v.late}`,
    `kills: ${kills.length} (${[...killCounts].map(([name, n]) => `${name} ${n}`).join(', ') || 'none'}), restarts ${kills.filter((k) => k.backMs !== undefined).length}${retried(kills)}; back on /health (min / median / max): ${spread(kills.map((k) => k.backMs))}; first webhook of a new event after a kill: ${spread(kills.map((k) => k.resumedMs))}`,
    ...others.map((r) => `${r.fault.kind} ${r.fault.target}: back after ${s(r.backMs)}${r.fault.error ? ` (${r.fault.error})` : ''}, webhooks resumed ${s(r.resumedMs)} after it began`),
  ];
  if (v.lostSample.length) lines.push(`lost, e.g.: ${v.lostSample.join('; ')}`);
  if (v.failedOutsideRulesSample.length) lines.push(`failed outside the rules, e.g.: ${v.failedOutsideRulesSample.join('; ')}`);
  if (v.lateSample.length) lines.push(`late, e.g.: ${v.lateSample.join('; ')}`);
  return lines.join('\n');
}
