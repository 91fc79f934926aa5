import type { KeyRoom, Queue, ReceivedMessage, Topic } from './ports/queue.ts';
import type { Logger } from './log.ts';
import type { ReadinessCheck } from './backends.ts';
import { coerceError, DependencyError } from './errors.ts';

export interface ConsumerOptions<T> {
  queue: Queue;
  topic: Topic;
  log: Logger;
  /** Messages processed at once. */
  concurrency: number;
  /** Most messages taken per receive. */
  batchSize: number;
  visibilityTimeoutMs: number;
  /**
   * Handles one message. Resolving acks it; throwing nacks it with a growing delay. A handler that
   * calls `control.detach()` takes the message over: resolving then frees the slot without acking.
   */
  handle(message: ReceivedMessage<T>, control: MessageControl): Promise<void>;
  /** Long-poll wait per receive. */
  waitTimeMs?: number;
  /**
   * Keys whose messages to leave in the queue for now (asked before each receive), where the queue
   * can (`capabilities.skipKeys`): the handler's work for them is at its limit.
   */
  skipKeys?: () => readonly string[];
  /**
   * The room the handler has per message key (asked before each receive), where the queue can
   * (`capabilities.skipKeys`): the receive takes no more of a key's messages than that, so those
   * over the limit wait in the queue rather than being received only to be put back.
   */
  keyRoom?: () => KeyRoom;
  /**
   * The process's backend checks (`/ready`'s). When a handler fails because a backend is down (a
   * retryable `DependencyError`), the consumer stops receiving and probes that backend's check,
   * backing off, until it answers again; without a matching check it resumes after the pause and
   * lets the next message probe.
   */
  readiness?: ReadinessCheck[];
}

export interface MessageControl {
  /**
   * Takes the message out of the consumer's slots: the handler's return no longer acks it, the
   * slot goes to the next message, and the consumer keeps the message invisible (extending its
   * visibility timeout, as for a message in a slot) until `ack` or `release`. For work that waits
   * without working (a batch window): the message stays in the queue as the durable record, so
   * a crash hands it out again.
   */
  detach(): DetachedMessage;
  /**
   * Acks the message with the handler's last store call, `write` (one call, e.g. recording an
   * outcome), instead of after the handler returns: in its transaction where the queue shares the
   * store's database (`Queue.ackWith`), else right after it. The message is acked only if `write`
   * succeeds; the handler's return does not ack it again. Only for a handler whose work is done
   * once `write` is: a crash after it must not need the message again.
   */
  ackWith<T>(write: () => Promise<T>): Promise<T>;
}

export interface DetachedMessage {
  readonly receiveCount: number;
  /** Deletes the message: its work is done. */
  ack(): Promise<void>;
  /** Makes the message visible again after `delayMs` (like a nack: the next receive counts). */
  release(delayMs: number): Promise<void>;
}

export interface Consumer {
  /**
   * Stops receiving and waits for the messages in its slots. Detached messages stay invisible
   * until their holder settles them (their visibility is extended until then).
   */
  stop(): Promise<void>;
  readonly inFlight: number;
  /** Messages detached and not yet settled. */
  readonly detached: number;
}

const MAX_RECEIVE_BACKOFF_MS = 5000;
const MAX_NACK_DELAY_MS = 60_000;
const MIN_OUTAGE_PAUSE_MS = 250;
const MAX_OUTAGE_PAUSE_MS = 5000;
const PROBE_TIMEOUT_MS = 2000;
/**
 * While keys are skipped, a receive does not wait in the queue: the consumer looks again when one
 * of its messages finishes (a skipped key may have room now) or after this long (a message of
 * another key may have come).
 */
const SKIPPING_WAIT_MS = 20;

/**
 * A long-polling consumer that keeps up to `concurrency` messages in flight. When the queue
 * backend fails it backs off (up to 5 s) and resumes by itself when the backend returns.
 *
 * When a handler fails because another backend is down (a retryable `DependencyError`: the store
 * the handler writes to), every message would fail the same way, and each receive spends one of
 * the message's `maxReceives` (after which it is dead-lettered). So the consumer nacks what it
 * holds and stops receiving until that backend answers its readiness check again (probed with a
 * backoff up to 5 s): an outage costs each message in hand one receive, however long it lasts.
 * A probe that takes longer than 2 s is waited for across rounds rather than restarted, so a
 * backend that is slow but up resumes consumption when its check answers.
 */
export function startConsumer<T>(options: ConsumerOptions<T>): Consumer {
  let running = true;
  let inFlight = 0;
  let wakeSlot: (() => void) | undefined;
  let wakePause: (() => void) | undefined;
  const settled = new Set<Promise<void>>();
  /** Set while a backend the handler needs is down: receiving waits for it. */
  let outage: { backend: string; since: number } | undefined;
  let pauseMs = MIN_OUTAGE_PAUSE_MS;
  /**
   * The readiness probe still running: a probe slower than PROBE_TIMEOUT_MS (a backend that is
   * slow but up) is not abandoned and started again, which would never see it answer: the next
   * round waits on the same probe, and its late answer counts.
   */
  let probe: Promise<boolean> | undefined;

  const noteOutage = (error: DependencyError) => {
    if (outage) return;
    outage = { backend: error.backend, since: Date.now() };
    options.log.warn({ topic: options.topic, backend: error.backend }, 'A backend is unavailable; pausing consumption until it answers');
  };

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakePause = undefined;
        resolve();
      }
      wakePause = done;
    });

  /** Waits out the outage: pauses, then probes the failed backend; resumes when it answers. */
  const waitForBackend = async (current: { backend: string; since: number }) => {
    await pause(pauseMs);
    if (!running) return;
    const check = options.readiness?.find((c) => c.name === current.backend);
    if (!check) {
      // Nothing to probe with: the next message is the probe (a success resets the pause).
      pauseMs = Math.min(MAX_OUTAGE_PAUSE_MS, pauseMs * 2);
      outage = undefined;
      return;
    }
    probe ??= check.check().then(
      () => true,
      () => false,
    );
    const answer = await withTimeout(probe, PROBE_TIMEOUT_MS).catch(() => 'late' as const);
    if (answer === 'late') {
      // Still running: look again after the next pause, on the same probe.
      pauseMs = Math.min(MAX_OUTAGE_PAUSE_MS, pauseMs * 2);
      return;
    }
    probe = undefined;
    if (!answer) {
      pauseMs = Math.min(MAX_OUTAGE_PAUSE_MS, pauseMs * 2);
      return;
    }
    options.log.warn({ topic: options.topic, backend: current.backend, pausedMs: Date.now() - current.since }, 'The backend answers again; resuming consumption');
    pauseMs = MIN_OUTAGE_PAUSE_MS;
    outage = undefined;
  };

  const heartbeatEveryMs = Math.max(50, Math.floor(options.visibilityTimeoutMs / 2));
  const extend = (receipt: string) => options.queue.extendVisibility(options.topic, receipt, options.visibilityTimeoutMs).catch(() => undefined);
  /** Receipts of detached messages, all kept invisible by one timer while there are any. */
  const detachedReceipts = new Set<string>();
  let detachedHeartbeat: NodeJS.Timeout | undefined;
  const untrackDetached = (receipt: string) => {
    detachedReceipts.delete(receipt);
    if (detachedReceipts.size === 0 && detachedHeartbeat) {
      clearInterval(detachedHeartbeat);
      detachedHeartbeat = undefined;
    }
  };
  const detach = (message: ReceivedMessage<T>): DetachedMessage => {
    detachedReceipts.add(message.receipt);
    detachedHeartbeat ??= setInterval(() => {
      for (const receipt of detachedReceipts) void extend(receipt);
    }, heartbeatEveryMs);
    let settled = false;
    const settle = async (work: () => Promise<void>) => {
      if (settled) return;
      settled = true;
      try {
        await work();
      } finally {
        untrackDetached(message.receipt);
      }
    };
    return {
      receiveCount: message.receiveCount,
      ack: () => settle(() => options.queue.ack(options.topic, message.receipt)),
      release: (delayMs) => settle(() => options.queue.nack(options.topic, message.receipt, delayMs)),
    };
  };

  const process = async (message: ReceivedMessage<T>) => {
    // Keeps a slow message (a webhook waiting for its timeout) invisible while it is being handled.
    const heartbeat = setInterval(() => void extend(message.receipt), heartbeatEveryMs);
    let detached = false;
    // Set once `ackWith` is called: the handler's return does not ack (a failed `ackWith` leaves
    // the message unacked, to be nacked by the handler's throw or redelivered).
    let ackedWithWrite = false;
    const control: MessageControl = {
      detach() {
        if (detached || ackedWithWrite) throw new Error('detach() after the message was detached or acked');
        detached = true;
        clearInterval(heartbeat);
        return detach(message);
      },
      async ackWith(write) {
        if (detached || ackedWithWrite) throw new Error('ackWith() after the message was detached or acked');
        ackedWithWrite = true;
        if (options.queue.ackWith) return options.queue.ackWith(options.topic, message.receipt, write);
        const result = await write();
        await options.queue.ack(options.topic, message.receipt);
        return result;
      },
    };
    try {
      await options.handle(message, control);
      if (!detached && !ackedWithWrite) await options.queue.ack(options.topic, message.receipt);
      if (!outage) pauseMs = MIN_OUTAGE_PAUSE_MS;
    } catch (thrown) {
      const error = coerceError(thrown);
      if (detached) {
        // The message was handed over before the failure: its holder settles it.
        options.log.warn({ err: error, topic: options.topic, messageId: message.id }, 'Failed after detaching a message');
        return;
      }
      if (error instanceof DependencyError && error.retryable) noteOutage(error);
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
      if (outage) {
        await waitForBackend(outage);
        continue;
      }
      if (inFlight >= options.concurrency) {
        await new Promise<void>((resolve) => (wakeSlot = resolve));
        continue;
      }
      let messages: ReceivedMessage<T>[];
      const receiveStarted = Date.now();
      const skipKeys = options.queue.capabilities.skipKeys ? options.skipKeys?.() : undefined;
      const keyRoom = options.queue.capabilities.skipKeys ? options.keyRoom?.() : undefined;
      // A key with no room is skipped as well.
      const skipping = (skipKeys !== undefined && skipKeys.length > 0) || (keyRoom !== undefined && [...keyRoom.keys.values()].some((room) => room <= 0));
      try {
        messages = await options.queue.receive<T>(options.topic, {
          maxMessages: Math.min(options.batchSize, options.concurrency - inFlight),
          visibilityTimeoutMs: options.visibilityTimeoutMs,
          // Skipped keys may get room any moment: no long poll (see SKIPPING_WAIT_MS).
          waitTimeMs: skipping ? 0 : (options.waitTimeMs ?? 1000),
          skipKeys,
          keyRoom,
        });
        backoff = 100;
      } catch (thrown) {
        options.log.warn({ err: coerceError(thrown), topic: options.topic, retryInMs: backoff }, 'Failed to receive; backing off');
        await sleep(backoff);
        backoff = Math.min(MAX_RECEIVE_BACKOFF_MS, backoff * 2);
        continue;
      }
      if (messages.length === 0 && skipping) {
        if (inFlight > 0) await new Promise<void>((resolve) => {
          const timer = setTimeout(wake, SKIPPING_WAIT_MS);
          function wake() {
            clearTimeout(timer);
            if (wakeSlot === wake) wakeSlot = undefined;
            resolve();
          }
          wakeSlot = wake;
        });
        else await sleep(SKIPPING_WAIT_MS);
      }
      // A receive that returns nothing at once (a closed queue, a backend without long polling)
      // must not spin the loop.
      else if (messages.length === 0 && Date.now() - receiveStarted < 5) await sleep(50);
      // An embedded (synchronous) queue answers without ever leaving the microtask queue; yield to
      // the event loop so HTTP requests and ingest's group commits are not starved by consumption.
      else await new Promise<void>((resolve) => setImmediate(resolve));
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
    get detached() {
      return detachedReceipts.size;
    },
    async stop() {
      running = false;
      wakeSlot?.();
      wakePause?.();
      await looping;
      await Promise.all([...settled]);
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
