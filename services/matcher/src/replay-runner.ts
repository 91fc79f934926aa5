import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventMessage, type EventStore, type Queue, type Replay, type ReplayStore } from '@triggers/core/ports';
import { coerceError, type Clock } from '@triggers/core/domain';
import type { Logger } from '@triggers/core/runtime';

export interface ReplayRunnerOptions {
  replayStore: ReplayStore;
  eventStore: EventStore;
  queue: Queue;
  clock: Clock;
  log: Logger;
  /** Events enqueued per second per job (TRIGGERS_REPLAY_EVENTS_PER_SECOND). */
  eventsPerSecond: number;
  /** How often to look for a job to run. Default 500 ms. */
  pollMs?: number;
  /**
   * How long a claim lasts without progress before another runner may take the job: what a
   * killed runner's job waits before it resumes. Default 10 s, ten times the longest paced wait
   * between two saves (a page is at most a second of `eventsPerSecond`).
   */
  leaseMs?: number;
}

/** `leaseMs` when not set. */
const DEFAULT_LEASE_MS = 10_000;
/** At most this many events per page (the event store's page limit is 1000). */
const MAX_PAGE = 500;

/**
 * Runs bulk replay jobs: claims a running one, then pages through the events its filter matches
 * (the inbox's keyset pages, newest first), enqueues each page as `events` messages carrying the
 * replay id, and saves the cursor and counts after each page. Paced at `eventsPerSecond`, so a
 * replay of millions of events takes its time rather than the matcher's and deliverer's capacity.
 * A crash loses at most the unsaved page, which is enqueued again after the lease (same replay id,
 * same delivery ids: no second webhook). A graceful stop releases the lease after the page under
 * way is saved, so the next start resumes at once. A cancelled job stops at its next page.
 */
export function startReplayRunner(options: ReplayRunnerOptions): { stop(): Promise<void> } {
  const owner = `replay-runner-${randomUUID()}`;
  const pollMs = options.pollMs ?? 500;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const stopping = new AbortController();
  const running = (async () => {
    while (!stopping.signal.aborted) {
      try {
        const job = await options.replayStore.claimReplay(owner, options.clock.now(), leaseMs);
        if (job) {
          await runJob(options, job, owner, leaseMs, stopping.signal);
          continue;
        }
      } catch (thrown) {
        options.log.warn({ err: coerceError(thrown) }, 'Failed a bulk replay step; retrying');
      }
      await sleep(pollMs, undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  })();
  return {
    async stop() {
      stopping.abort();
      await running;
    },
  };
}

async function runJob(options: ReplayRunnerOptions, job: Replay, owner: string, leaseMs: number, signal: AbortSignal): Promise<void> {
  const log = options.log.child({ replayId: job.replayId, customerId: job.customerId });
  const pageSize = Math.max(1, Math.min(MAX_PAGE, options.eventsPerSecond));
  let cursor = job.cursor;
  const { filter } = job;
  while (!signal.aborted) {
    const startedAt = options.clock.now();
    const page = await options.eventStore.listEvents(job.customerId, {
      startTime: filter.startTime,
      endTime: filter.endTime,
      status: filter.status,
      eventType: filter.eventType,
      limit: pageSize,
      ...(cursor ? { cursor } : {}),
    });
    if (page.events.length > 0) {
      await options.queue.sendBatch(
        'events',
        page.events.map((e) => eventMessage(e, { replayId: job.replayId, replayWorkflowId: filter.workflowId })),
      );
    }
    const finished = page.nextCursor === null;
    const now = options.clock.now();
    const saved = await options.replayStore.saveProgress(job.replayId, owner, {
      cursor: page.nextCursor,
      matched: page.events.length,
      enqueued: page.events.length,
      finished,
      now,
      leaseUntil: now + leaseMs,
    });
    if (!saved) {
      log.info('Stopped a bulk replay (cancelled, or taken over)');
      return;
    }
    if (finished) {
      log.info('Completed a bulk replay');
      return;
    }
    cursor = page.nextCursor;
    // Pacing: this page's share of a second at eventsPerSecond.
    const waitMs = (page.events.length * 1000) / options.eventsPerSecond - (options.clock.now() - startedAt);
    if (waitMs > 0) await sleep(waitMs, undefined, { signal }).catch(() => undefined);
  }
  // A graceful stop: the progress is saved, so whoever starts next takes the job on at once.
  await options.replayStore.releaseReplay(job.replayId, owner);
  log.info('Released a bulk replay on stop');
}
