import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { CircuitOpenError } from '../domain/delivery/errors.ts';

/**
 * One circuit breaker per webhook origin (scheme, host and port), on top of opossum.
 *
 * Not a pure module: opossum keeps its own timers (the reset timer and the rolling window), so
 * it runs on wall-clock time and tests use small real timeouts.
 */

export const CIRCUIT_STATES = ['closed', 'open', 'half-open'] as const;
export type CircuitState = (typeof CIRCUIT_STATES)[number];

export interface CircuitBreakerOptions {
  /** Requests within the window before the error rate counts (`TRIGGERS_BREAKER_MIN_REQUESTS`). */
  minRequests: number;
  /** Opens at this failure percentage or above (`TRIGGERS_BREAKER_ERROR_PERCENT`). */
  errorPercent: number;
  /** How long it stays open before one half-open probe (`TRIGGERS_BREAKER_RESET_MS`). */
  resetMs: number;
  /** Rolling window of the counts; 60 s. */
  windowMs?: number;
  /** Called on every transition, for logs ("Opened circuit for host") and metrics. Must not throw. */
  onStateChange?: (origin: string, state: CircuitState) => void;
}

export interface RunOptions<T> {
  /** Counts a resolved result as a failure of the origin (a 5xx, a timeout reported as a value). */
  isFailure?: (result: T) => boolean;
  /**
   * A result for which `fn` sent nothing (it lost the race to claim the attempt). As a half-open
   * probe it decides nothing: the circuit stays half-open and the next request is the probe.
   */
  sentNothing?: (result: T) => boolean;
}

export interface CircuitBreakers {
  /**
   * Runs `fn` under the origin's breaker. While the circuit is open, or while its half-open probe
   * is in flight, rejects with `CircuitOpenError` without calling `fn`: no attempt is spent.
   * A rejection of `fn`, or a result that `isFailure` flags, counts as a failure; the result itself
   * is still returned.
   */
  run<T>(origin: string, fn: () => Promise<T>, options?: RunOptions<T>): Promise<T>;
  /** Whether `run` would call `fn` now: closed, or half-open with the probe slot free. */
  canRequest(origin: string): boolean;
  /** Whether the circuit is open (waiting for its reset timeout). */
  isOpen(origin: string): boolean;
  state(origin: string): CircuitState;
  /** 0 when a request may go now; else how long until it might (the rest of the reset timeout). */
  retryInMs(origin: string): number;
  /** Stops every timer. */
  shutdown(): void;
}

/** The breaker key of a URL: scheme, host and port (`https://example.com`, `http://10.0.0.1:8080`). */
export function originOf(url: string | URL): string {
  return (typeof url === 'string' ? new URL(url) : url).origin;
}

// opossum ships no TypeScript types; this is the part of its API used here.
interface OpossumBreaker extends EventEmitter {
  fire(task: () => Promise<unknown>): Promise<unknown>;
  readonly opened: boolean;
  readonly halfOpen: boolean;
  readonly closed: boolean;
  readonly pendingClose: boolean;
  open(): void;
  close(): void;
  shutdown(): void;
}
interface OpossumOptions {
  timeout: number | false;
  resetTimeout: number;
  errorThresholdPercentage: number;
  volumeThreshold: number;
  rollingCountTimeout: number;
  rollingCountBuckets: number;
  rollingPercentilesEnabled: boolean;
  enableSnapshots: boolean;
  rotateBucketController: EventEmitter;
  name: string;
}
interface OpossumModule {
  new (action: (task: () => Promise<unknown>) => Promise<unknown>, options: OpossumOptions): OpossumBreaker;
  isOurError(error: unknown): boolean;
}
const Opossum = createRequire(import.meta.url)('opossum') as OpossumModule;

const BUCKETS = 10;

function isOpenBreakerError(error: unknown): boolean {
  return error instanceof Error && Opossum.isOurError(error) && (error as { code?: unknown }).code === 'EOPENBREAKER';
}

/** Carries a result that counts as a failure through opossum, which only counts rejections. */
class CountedFailure<T> {
  constructor(readonly result: T) {}
}

interface Entry {
  breaker: OpossumBreaker;
  /** A half-open probe is in flight (run by us, not opossum, so one that sent nothing can give the slot back). */
  probing: boolean;
  openedAt: number;
  lastUsedAt: number;
  inFlight: number;
}

export function createCircuitBreakers(options: CircuitBreakerOptions): CircuitBreakers {
  const { minRequests, errorPercent, resetMs, windowMs = 60_000, onStateChange } = options;
  if (!(minRequests >= 1) || !(errorPercent > 0 && errorPercent <= 100) || !(resetMs > 0) || !(windowMs >= BUCKETS)) {
    throw new RangeError('Invalid circuit breaker options');
  }
  const entries = new Map<string, Entry>();

  // One timer rotates the buckets of every breaker, instead of one interval per origin.
  const rotator = new EventEmitter().setMaxListeners(0);
  const rotation = setInterval(() => {
    rotator.emit('rotate');
    evictIdle();
  }, Math.floor(windowMs / BUCKETS));
  rotation.unref();

  function notify(origin: string, state: CircuitState): void {
    try {
      onStateChange?.(origin, state);
    } catch {
      // A failing log or metric must not change the breaker: opossum emits from inside its promise chain.
    }
  }

  function createEntry(origin: string): Entry {
    const breaker = new Opossum((task) => task(), {
      timeout: false, // the sender has its own timeout
      resetTimeout: resetMs,
      // opossum opens strictly above the threshold; the setting reads "at least". Failure rates differ
      // from the threshold by at least 1/requests, so the epsilon changes nothing else.
      errorThresholdPercentage: errorPercent - 1e-9,
      volumeThreshold: minRequests,
      rollingCountTimeout: windowMs,
      rollingCountBuckets: BUCKETS,
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
      rotateBucketController: rotator,
      name: origin,
    });
    const entry: Entry = { breaker, probing: false, openedAt: 0, lastUsedAt: Date.now(), inFlight: 0 };
    breaker.on('open', () => {
      entry.openedAt = Date.now();
      notify(origin, 'open');
    });
    breaker.on('halfOpen', () => notify(origin, 'half-open'));
    breaker.on('close', () => {
      // A successful probe starts a fresh window: the failures that opened the circuit are history,
      // and one more failure must not re-open it at once.
      entries.set(origin, createEntry(origin));
      queueMicrotask(() => breaker.shutdown());
      notify(origin, 'closed');
    });
    return entry;
  }

  function entryFor(origin: string): Entry {
    let entry = entries.get(origin);
    if (!entry) {
      entry = createEntry(origin);
      entries.set(origin, entry);
    }
    return entry;
  }

  function evictIdle(): void {
    const cutoff = Date.now() - windowMs;
    for (const [origin, entry] of entries) {
      if (entry.breaker.closed && entry.inFlight === 0 && entry.lastUsedAt < cutoff) {
        entries.delete(origin);
        entry.breaker.shutdown();
      }
    }
  }

  function stateOf(entry: Entry | undefined): CircuitState {
    if (!entry || entry.breaker.closed) return 'closed';
    return entry.breaker.halfOpen ? 'half-open' : 'open';
  }

  function admits(entry: Entry | undefined): boolean {
    return !entry || entry.breaker.closed || (entry.breaker.pendingClose && !entry.probing);
  }

  /**
   * The half-open probe. opossum would close the circuit on any resolved call, including one that
   * sent no request; here the result decides: a real success closes it, a failure re-opens it,
   * and a result that sent nothing leaves it half-open with the probe slot free again.
   */
  async function probe<T>(entry: Entry, fn: () => Promise<T>, runOptions: RunOptions<T>): Promise<T> {
    entry.probing = true;
    let result: T;
    try {
      result = await fn();
    } catch (error) {
      entry.breaker.open();
      throw error;
    } finally {
      entry.probing = false;
    }
    if (runOptions.sentNothing?.(result)) return result;
    if (runOptions.isFailure?.(result)) entry.breaker.open();
    else entry.breaker.close();
    return result;
  }

  function waitOf(entry: Entry | undefined): number {
    if (admits(entry)) return 0;
    // Half-open with the probe in flight: the probe decides; ask again after one reset period.
    if (entry!.breaker.halfOpen) return resetMs;
    return Math.max(0, entry!.openedAt + resetMs - Date.now());
  }

  return {
    async run<T>(origin: string, fn: () => Promise<T>, runOptions: RunOptions<T> = {}): Promise<T> {
      const entry = entryFor(origin);
      if (!admits(entry)) throw new CircuitOpenError(origin, waitOf(entry));
      const { isFailure } = runOptions;
      entry.lastUsedAt = Date.now();
      entry.inFlight += 1;
      try {
        if (entry.breaker.halfOpen) return await probe(entry, fn, runOptions);
        return (await entry.breaker.fire(async () => {
          const result = await fn();
          if (isFailure?.(result)) throw new CountedFailure(result);
          return result;
        })) as T;
      } catch (error) {
        if (error instanceof CountedFailure) return error.result as T;
        // Defensive: the check above and `fire` run in one tick, so opossum should never refuse on its own.
        if (isOpenBreakerError(error)) throw new CircuitOpenError(origin, waitOf(entry));
        throw error;
      } finally {
        entry.inFlight -= 1;
        entry.lastUsedAt = Date.now();
      }
    },
    canRequest: (origin) => admits(entries.get(origin)),
    isOpen: (origin) => stateOf(entries.get(origin)) === 'open',
    state: (origin) => stateOf(entries.get(origin)),
    retryInMs: (origin) => waitOf(entries.get(origin)),
    shutdown() {
      clearInterval(rotation);
      for (const entry of entries.values()) entry.breaker.shutdown();
      entries.clear();
    },
  };
}
