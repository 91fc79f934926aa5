import { createHash } from 'node:crypto';

/**
 * The delivery id (sent as `webhook-id`) is derived from what it delivers, so a redelivered
 * `events` message computes the same ids and creates nothing new; a replay passes its own
 * `replayId` and gets new ones.
 */
export function deliveryIdFor(eventId: string, workflowId: string, replayId: string | undefined): string {
  const hex = createHash('sha256').update(`${eventId}|${workflowId}|${replayId ?? ''}`).digest('hex');
  return `msg_${hex.slice(0, 32)}`;
}
