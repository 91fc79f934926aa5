import type { Queue, ReceivedMessage, Topic } from './ports/queue.ts';
import type { Logger } from './log.ts';
import { coerceError } from './errors.ts';

export interface ConsumerOptions<T> {
  queue: Queue;
  topic: Topic;
  log: Logger;
  /** Messages processed at once. */
  concurrency: number;
  /** Most messages taken per receive. */
  batchSize: number;
  visibilityTimeoutMs: number;
  /** Handles one message. Resolving acks it; throwing nacks it with a growing delay. */
  handle(message: ReceivedMessage<T>): Promise<void>;
  /** Long-poll wait per receive. */
  waitTimeMs?: number;
}

export interface Consumer {
  /** Stops receiving and waits for the messages in hand. */
  stop(): Promise<void>;
  readonly inFlight: number;
}

const MAX_RECEIVE_BACKOFF_MS = 5000;
const MAX_NACK_DELAY_MS = 60_000;

/**
 * A long-polling consumer that keeps up to `concurrency` messages in flight. When the queue
 * backend fails it backs off (up to 5 s) and resumes by itself when the backend returns.
 */
export function startConsumer<T>(options: ConsumerOptions<T>): Consumer {
  let running = true;
  let inFlight = 0;
  let wakeSlot: (() => void) | undefined;
  const settled = new Set<Promise<void>>();

  const process = async (message: ReceivedMessage<T>) => {
    // Keeps a slow message (a webhook waiting for its timeout) invisible while it is being handled.
    const heartbeat = setInterval(() => {
      options.queue.extendVisibility(options.topic, message.receipt, options.visibilityTimeoutMs).catch(() => undefined);
    }, Math.max(50, Math.floor(options.visibilityTimeoutMs / 2)));
    try {
      await options.handle(message);
      await options.queue.ack(options.topic, message.receipt);
    } catch (thrown) {
      const error = coerceError(thrown);
      const delay = Math.min(MAX_NACK_DELAY_MS, 250 * 2 ** Math.min(message.receiveCount - 1, 10));
      options.log.warn({ err: error, topic: options.topic, messageId: message.id, receiveCount: message.receiveCount }, 'Failed to process message; will retry');
      await options.queue.nack(options.topic, message.receipt, delay).catch(() => undefined);
    } finally {
      clearInterval(heartbeat);
    }
  };

  const loop = async () => {
    let backoff = 100;
    while (running) {
      if (inFlight >= options.concurrency) {
        await new Promise<void>((resolve) => (wakeSlot = resolve));
        continue;
      }
      let messages: ReceivedMessage<T>[];
      const receiveStarted = Date.now();
      try {
        messages = await options.queue.receive<T>(options.topic, {
          maxMessages: Math.min(options.batchSize, options.concurrency - inFlight),
          visibilityTimeoutMs: options.visibilityTimeoutMs,
          waitTimeMs: options.waitTimeMs ?? 1000,
        });
        backoff = 100;
      } catch (thrown) {
        options.log.warn({ err: coerceError(thrown), topic: options.topic, retryInMs: backoff }, 'Failed to receive; backing off');
        await sleep(backoff);
        backoff = Math.min(MAX_RECEIVE_BACKOFF_MS, backoff * 2);
        continue;
      }
      // A receive that returns nothing at once (a closed queue, a backend without long polling)
      // must not spin the loop.
      if (messages.length === 0 && Date.now() - receiveStarted < 5) await sleep(50);
      for (const message of messages) {
        inFlight++;
        const done: Promise<void> = process(message).finally(() => {
          inFlight--;
          settled.delete(done);
          const wake = wakeSlot;
          wakeSlot = undefined;
          wake?.();
        });
        settled.add(done);
      }
    }
  };
  const looping = loop();

  return {
    get inFlight() {
      return inFlight;
    },
    async stop() {
      running = false;
      wakeSlot?.();
      await looping;
      await Promise.all([...settled]);
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
