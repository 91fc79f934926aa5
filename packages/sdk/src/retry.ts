/** How the client retries: on 429, 503, 409 `idempotency_key_in_progress`, and (when safe) network errors and timeouts. */
export interface RetryOptions {
  /** Retries after the first attempt (default 3; 0 turns retrying off). */
  maxRetries?: number;
  /** The first backoff (default 500 ms); doubled per retry, ±20 % jitter. */
  baseDelayMs?: number;
  /** The longest backoff or `Retry-After` honoured (default 30 s). */
  maxDelayMs?: number;
}

export const DEFAULT_RETRY: Required<RetryOptions> = { maxRetries: 3, baseDelayMs: 500, maxDelayMs: 30_000 };

/** The delay before retry number `retry` (1-based): the backoff, or the server's `Retry-After` when longer. */
export function retryDelayMs(retry: number, options: Required<RetryOptions>, retryAfterSeconds: number | null, random = Math.random): number {
  const backoff = options.baseDelayMs * 2 ** (retry - 1) * (0.8 + 0.4 * random());
  const asked = retryAfterSeconds === null ? 0 : retryAfterSeconds * 1000;
  return Math.min(options.maxDelayMs, Math.max(backoff, asked));
}

/** `Retry-After` as seconds: a number of seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null || value.trim() === '') return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, (at - now) / 1000);
}

/** Waits `ms`, or rejects as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
