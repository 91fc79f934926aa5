/**
 * What one delivery attempt means for the delivery. A closed set: every caller switches over it
 * exhaustively, so a new outcome cannot be added without the compiler pointing at each decision.
 */
export const DELIVERY_OUTCOMES = ['succeeded', 'retry', 'fail', 'disable'] as const;
/**
 * - `succeeded`: the receiver took it (2xx).
 * - `retry`: a later attempt may work (408, 429, 5xx, timeout, connection or DNS failure).
 * - `fail`: it will not work by waiting (other 4xx, unexpected statuses, SSRF refusal, redirect trouble).
 * - `disable`: the receiver said it is gone for good (410); the subscription is disabled.
 */
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];
export type ErrorOutcome = Extract<DeliveryOutcome, 'retry' | 'fail'>;

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** The statuses the sender follows by re-POSTing to `Location`. */
export function isRedirect(statusCode: number): boolean {
  return REDIRECT_STATUSES.has(statusCode);
}

export function classifyResponse(statusCode: number): DeliveryOutcome {
  if (statusCode >= 200 && statusCode <= 299) return 'succeeded';
  if (statusCode === 410) return 'disable';
  if (statusCode === 408 || statusCode === 429) return 'retry';
  if (statusCode >= 500 && statusCode <= 599) return 'retry';
  // Other 4xx, and 1xx/3xx that reached us (a redirect without Location, 304, ...): waiting will not change them.
  return 'fail';
}

/** Node and undici codes of transient network trouble: timeouts, refused or reset connections, DNS. */
const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'ETIMEDOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NODATA',
  'ENODATA',
  'ESERVFAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_ABORTED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

const TIMEOUT_NAMES: ReadonlySet<string> = new Set(['TimeoutError', 'AbortError']);

/**
 * Classifies an attempt that ended without a usable response. Errors that know whether a retry
 * helps say so with a boolean `retryable` (all `DeliveryError`s, `DependencyError`); network and
 * DNS errors are recognised by `code`, also when wrapped as a `cause`. Anything unknown is retried:
 * a bounded number of extra attempts costs less than dropping a delivery on an unforeseen error.
 */
export function classifyError(error: unknown): ErrorOutcome {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    const e = current as { retryable?: unknown; code?: unknown; name?: unknown; cause?: unknown };
    if (typeof e.retryable === 'boolean') return e.retryable ? 'retry' : 'fail';
    if (typeof e.code === 'string' && RETRYABLE_CODES.has(e.code)) return 'retry';
    if (typeof e.name === 'string' && TIMEOUT_NAMES.has(e.name)) return 'retry';
    current = e.cause;
  }
  return 'retry';
}

/** Whether an outcome counts as a failure of the origin for its circuit breaker. */
export function countsAgainstOrigin(outcome: DeliveryOutcome): boolean {
  switch (outcome) {
    case 'retry':
      return true;
    case 'succeeded':
    case 'fail':
    case 'disable':
      // A 4xx or 410 is a healthy server answering; an SSRF refusal never reached the origin.
      return false;
  }
}
