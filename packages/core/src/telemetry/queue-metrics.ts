import { Gauge, register as defaultRegister, type Registry } from 'prom-client';
import type { Queue, QueueDepth, Topic } from '../ports/queue.ts';

const TOPICS: readonly Topic[] = ['events', 'deliveries'];

export interface QueueMetricsOptions {
  /** A reading younger than this is served from memory: scrapes from many Prometheus replicas cost one backend call. */
  maxAgeMs?: number;
  /** A scrape waits at most this long for a fresh reading, then gets the last one (a slow engine never stalls /metrics). */
  timeoutMs?: number;
  registry?: Registry;
  now?: () => number;
  /** Told when a reading fails (the previous values stay exported). */
  onError?: (error: unknown) => void;
}

interface Reading {
  depth: Record<Topic, QueueDepth>;
  deadLetters: Record<Topic, number>;
}

/**
 * Exports the queue's depth (visible, delayed, in flight: consumer lag on Kafka) and dead-letter
 * size per topic as gauges read on scrape. Readings are cached for `maxAgeMs` and taken by one
 * call at a time, so the cost is bounded by the cache age, not by the scrape rate.
 */
export function registerQueueMetrics(queue: Queue, options: QueueMetricsOptions = {}): { unregister(): void } {
  const registry = options.registry ?? defaultRegister;
  const maxAgeMs = options.maxAgeMs ?? 5000;
  const timeoutMs = options.timeoutMs ?? 2000;
  const now = options.now ?? Date.now;
  let last: Reading | undefined;
  let takenAt = -Infinity;
  let inFlight: Promise<void> | undefined;

  const refresh = (): Promise<void> =>
    (inFlight ??= (async () => {
      try {
        const [depths, deadLetters] = await Promise.all([
          Promise.all(TOPICS.map((t) => queue.depth(t))),
          Promise.all(TOPICS.map((t) => (queue.capabilities.deadLetter ? queue.deadLetterDepth(t) : Promise.resolve(0)))),
        ]);
        last = {
          depth: Object.fromEntries(TOPICS.map((t, i) => [t, depths[i]])) as Record<Topic, QueueDepth>,
          deadLetters: Object.fromEntries(TOPICS.map((t, i) => [t, deadLetters[i]])) as Record<Topic, number>,
        };
        takenAt = now();
      } catch (error) {
        options.onError?.(error);
      } finally {
        inFlight = undefined;
      }
    })());

  const reading = async (): Promise<Reading | undefined> => {
    if (now() - takenAt < maxAgeMs) return last;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([refresh(), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    return last;
  };

  new Gauge({
    name: 'triggers_queue_messages',
    help: 'Messages in a queue by state: visible (waiting), delayed (retries, deferrals), in_flight (received, not acked). On Kafka, visible is consumer lag.',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      const r = await reading();
      if (!r) return;
      for (const topic of TOPICS) {
        this.set({ queue: topic, state: 'visible' }, r.depth[topic].visible);
        this.set({ queue: topic, state: 'delayed' }, r.depth[topic].delayed);
        this.set({ queue: topic, state: 'in_flight' }, r.depth[topic].inFlight);
      }
    },
  });
  new Gauge({
    name: 'triggers_queue_dead_letter_messages',
    help: 'Messages in a queue\'s dead-letter queue (received more than TRIGGERS_QUEUE_MAX_RECEIVES times).',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      const r = await reading();
      if (!r) return;
      for (const topic of TOPICS) this.set({ queue: topic }, r.deadLetters[topic]);
    },
  });
  return {
    unregister() {
      registry.removeSingleMetric('triggers_queue_messages');
      registry.removeSingleMetric('triggers_queue_dead_letter_messages');
    },
  };
}

let processQueue: { queue: Queue; unregister(): void } | undefined;

/**
 * The process's one queue-depth export (a second context in one process — tests start many —
 * takes the gauges over). Returns the release for the backends' close.
 */
export function exportProcessQueueMetrics(queue: Queue, options: Omit<QueueMetricsOptions, 'registry'> = {}): () => void {
  processQueue?.unregister();
  processQueue = { queue, ...registerQueueMetrics(queue, options) };
  return () => {
    if (processQueue?.queue !== queue) return;
    processQueue.unregister();
    processQueue = undefined;
  };
}
