import { createHash } from 'node:crypto';

/** The `webhook-id` of a batched request: derived from its members, so its retries keep it. */
export function batchIdFor(deliveryIds: string[]): string {
  const hash = createHash('sha256').update([...deliveryIds].sort().join('|')).digest('hex');
  return `msg_b${hash.slice(0, 31)}`;
}
