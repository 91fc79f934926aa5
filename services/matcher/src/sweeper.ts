import { deliveryMessage, eventMessage, type DeliveryStore, type Queue } from '@triggers/core/ports';
import { coerceError, type Clock } from '@triggers/core/domain';
import type { Logger } from '@triggers/core/runtime';

export interface SweeperOptions {
  deliveryStore: DeliveryStore;
  queue: Queue;
  clock: Clock;
  log: Logger;
  /** How overdue a pending event or delivery must be before it is re-enqueued. */
  graceMs: number;
  intervalMs: number;
  batchSize?: number;
}

/**
 * Re-enqueues what a crash between two writes could have stranded: events still `pending` with no
 * delivery past the grace time (their `events` message was lost), and pending deliveries whose
 * next attempt is overdue by the grace time (their `deliveries` message was lost). Needed when the
 * store and the queue are different engines; harmless duplicates otherwise.
 *
 * Never while the topic has a backlog (messages visible and not yet received): an overdue item
 * is then most likely waiting in it, not lost, and re-enqueueing it would feed the backlog with
 * copies. Every other message's item shows its wait in its due time: a delayed retry or deferral
 * moves `nextAttemptAt`, an attempt in flight holds a claim lease, and a batch window or a
 * fair-share deferral lasts at most a minute, inside the grace time.
 */
export async function sweepOnce(options: SweeperOptions): Promise<{ events: number; deliveries: number }> {
  const [eventsBacklog, deliveriesBacklog] = await Promise.all([backlogOf(options.queue, 'events'), backlogOf(options.queue, 'deliveries')]);
  const now = options.clock.now();
  const found = await options.deliveryStore.listOverdue(now, options.graceMs, options.batchSize ?? 500);
  const overdue = {
    eventsWithoutDeliveries: eventsBacklog ? [] : found.eventsWithoutDeliveries,
    deliveries: deliveriesBacklog ? [] : found.deliveries,
  };
  if (overdue.eventsWithoutDeliveries.length > 0) {
    await options.queue.sendBatch(
      'events',
      overdue.eventsWithoutDeliveries.map((e) => eventMessage(e)),
    );
  }
  if (overdue.deliveries.length > 0) {
    await options.queue.sendBatch('deliveries', overdue.deliveries.map((d) => deliveryMessage(d, { delayMs: d.nextAttemptAt - now })));
  }
  const counts = { events: overdue.eventsWithoutDeliveries.length, deliveries: overdue.deliveries.length };
  if (counts.events + counts.deliveries > 0) options.log.warn(counts, 'Re-enqueued stranded work');
  return counts;
}

/** Whether the topic has messages waiting to be received. A failed reading counts as no backlog. */
async function backlogOf(queue: Queue, topic: 'events' | 'deliveries'): Promise<boolean> {
  try {
    return (await queue.depth(topic)).visible > 0;
  } catch {
    return false;
  }
}

export function startSweeper(options: SweeperOptions): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = async () => {
    try {
      await sweepOnce(options);
    } catch (error) {
      options.log.warn({ err: coerceError(error) }, 'Failed to sweep; will try again');
    }
    if (!stopped) timer = setTimeout(tick, options.intervalMs);
  };
  timer = setTimeout(tick, options.intervalMs);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
