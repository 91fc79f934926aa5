import type { SubscriptionRetryPolicy } from '../subscriptions.ts';

/**
 * When to try a failed delivery again. Pure: randomness and the current time come in as arguments.
 */

export interface RetryDelayInput {
  /** The attempt that just failed, starting at 1. */
  attempt: number;
  /** Delay after the first attempt (`TRIGGERS_RETRY_BASE_MS`). */
  baseMs: number;
  /** Cap of the exponential schedule before jitter (`TRIGGERS_RETRY_MAX_DELAY_MS`). */
  maxDelayMs: number;
  /**
   * A subscription's explicit schedule: the delay after attempt n is `scheduleMs[n-1]` (the last
   * entry repeats), capped by `maxDelayMs`; `baseMs` is then unused.
   */
  scheduleMs?: readonly number[];
  /** What the receiver asked for with `Retry-After`, already converted by `parseRetryAfter`. */
  retryAfterMs?: number;
  /** A number in [0, 1), e.g. `Math.random`. */
  random: () => number;
}

/** Spread of the jitter around the scheduled delay: ±20 %. */
export const RETRY_JITTER = 0.2;

/** The longest a receiver's `Retry-After` can park a delivery (API.md: at most 24 h). */
export const MAX_RETRY_AFTER_MS = 24 * 3600_000;

/** The statuses whose `Retry-After` is honoured (API.md): 429 Too Many Requests and 503 Service Unavailable. */
export function honoursRetryAfter(statusCode: number | null): boolean {
  return statusCode === 429 || statusCode === 503;
}

/**
 * `min(base * 2^(attempt-1), maxDelay)` with ±20 % jitter, in whole milliseconds.
 * A `Retry-After` is honoured as `max(delay, Retry-After)`, at most 24 h: a receiver can slow us
 * down as far as it asks, but cannot make us hammer it nor park a delivery for days.
 */
export function computeRetryDelay(input: RetryDelayInput): number {
  const { attempt, baseMs, maxDelayMs, scheduleMs, retryAfterMs, random } = input;
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`attempt must be a whole number >= 1 (got ${attempt})`);
  if (!(baseMs > 0) || !(maxDelayMs > 0)) throw new RangeError('baseMs and maxDelayMs must be positive');

  const fromSchedule = scheduleMs && scheduleMs.length > 0 ? scheduleMs[Math.min(attempt, scheduleMs.length) - 1] : undefined;
  const scheduled = Math.min(fromSchedule ?? baseMs * 2 ** (attempt - 1), maxDelayMs);
  const r = random();
  if (!(r >= 0 && r < 1)) throw new RangeError(`random() must return a number in [0, 1) (got ${r})`);
  const delay = scheduled * (1 - RETRY_JITTER + 2 * RETRY_JITTER * r);

  if (retryAfterMs === undefined || !Number.isFinite(retryAfterMs)) return Math.round(delay);
  return Math.round(Math.min(Math.max(retryAfterMs, delay), Math.max(delay, MAX_RETRY_AFTER_MS)));
}

const DELTA_SECONDS = /^\d+$/;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
// RFC 9110 §5.6.7: recipients accept all three HTTP-date forms, always in GMT.
const IMF_FIXDATE = /^[a-z]{3}, (\d{2}) ([a-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) gmt$/i;
const RFC850_DATE = /^[a-z]{6,9}, (\d{2})-([a-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) gmt$/i;
const ASCTIME_DATE = /^[a-z]{3} ([a-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/i;

/**
 * Reads a `Retry-After` header: delta-seconds or an HTTP-date, as milliseconds from `nowMs`
 * (a date in the past gives 0). Anything else, or no header, gives `undefined`.
 */
export function parseRetryAfter(headerValue: string | readonly string[] | null | undefined, nowMs: number): number | undefined {
  const raw = typeof headerValue === 'string' ? headerValue : headerValue?.[0];
  if (raw === undefined) return undefined;
  const value = raw.trim();
  if (DELTA_SECONDS.test(value)) {
    const seconds = Number(value);
    return Number.isSafeInteger(seconds) ? seconds * 1000 : undefined;
  }
  const at = parseHttpDate(value, nowMs);
  return at === undefined ? undefined : Math.max(0, at - nowMs);
}

function parseHttpDate(value: string, nowMs: number): number | undefined {
  let m: RegExpMatchArray | null;
  let year: number, month: string, day: number, hh: number, mm: number, ss: number;
  if ((m = IMF_FIXDATE.exec(value))) {
    [day, month, year, hh, mm, ss] = [Number(m[1]), m[2], Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])];
  } else if ((m = RFC850_DATE.exec(value))) {
    const yy = Number(m[3]);
    // RFC 9110: a two-digit year more than 50 years in the future is in the past century.
    const currentYear = new Date(nowMs).getUTCFullYear();
    year = 2000 + yy > currentYear + 50 ? 1900 + yy : 2000 + yy;
    [day, month, hh, mm, ss] = [Number(m[1]), m[2], Number(m[4]), Number(m[5]), Number(m[6])];
  } else if ((m = ASCTIME_DATE.exec(value))) {
    [month, day, hh, mm, ss, year] = [m[1], Number(m[2].trim()), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])];
  } else {
    return undefined;
  }
  const monthIndex = MONTHS.indexOf(month.toLowerCase());
  if (monthIndex < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) return undefined;
  const ms = Date.UTC(year, monthIndex, day, hh, mm, Math.min(ss, 59));
  // Date.UTC rolls 31 Feb over into March; such a date is malformed, not a date in March.
  if (new Date(ms).getUTCDate() !== day) return undefined;
  return ms;
}

/** The retry settings one delivery follows: the subscription's own fields over the settings' defaults. */
export interface EffectiveRetryPolicy {
  maxAttempts: number;
  baseMs: number;
  maxDelayMs: number;
  scheduleMs?: readonly number[];
  timeoutMs: number;
}

/**
 * Fills what a subscription's `retryPolicy` and `timeoutMs` leave out from the settings. Pure, so
 * the deliverer and the tests agree on what "the default" means.
 */
export function effectiveRetryPolicy(
  subscription: { retryPolicy?: SubscriptionRetryPolicy | null; timeoutMs?: number | null },
  defaults: { maxAttempts: number; retryBaseMs: number; retryMaxDelayMs: number; timeoutMs: number },
): EffectiveRetryPolicy {
  const own = subscription.retryPolicy ?? {};
  const policy: EffectiveRetryPolicy = {
    maxAttempts: own.maxAttempts ?? defaults.maxAttempts,
    baseMs: own.baseMs ?? defaults.retryBaseMs,
    maxDelayMs: own.maxDelayMs ?? defaults.retryMaxDelayMs,
    timeoutMs: subscription.timeoutMs ?? defaults.timeoutMs,
  };
  if (own.scheduleMs && own.scheduleMs.length > 0) policy.scheduleMs = own.scheduleMs;
  return policy;
}
