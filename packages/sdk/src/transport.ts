import type { Problem } from './api.gen.ts';
import { TriggersError } from './errors.ts';
import { DEFAULT_RETRY, parseRetryAfter, retryDelayMs, sleep, type RetryOptions } from './retry.ts';

export interface ClientOptions {
  /** The API's base URL, e.g. `http://localhost:8080` (no trailing `/api/v1`). */
  baseUrl: string;
  /** A customer API key (`sk_live_...` / `sk_test_...`). */
  apiKey: string;
  /** Per attempt (default 30 s). */
  timeoutMs?: number;
  retry?: RetryOptions;
  /** Another fetch (a proxy agent, a test double); the platform's by default. */
  fetch?: typeof fetch;
  /** Sent as `User-Agent` where the platform allows it (not in browsers). */
  userAgent?: string;
}

export interface RequestOptions {
  /** Aborts the call, including its retries and waits. */
  signal?: AbortSignal;
  /** Overrides the client's per-attempt timeout. */
  timeoutMs?: number;
}

interface Call {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | undefined | null>;
  body?: unknown;
  headers?: Record<string, string>;
  /**
   * Whether repeating the request after a lost response cannot do anything twice (reads, deletes,
   * and POSTs that carry an `Idempotency-Key`). Others are retried only after an answer that
   * says nothing was done (429, 503).
   */
  idempotent: boolean;
}

/** A fresh `Idempotency-Key` for one call: its retries repeat it, another call gets another. */
export function newIdempotencyKey(): string {
  return `sdk-${crypto.randomUUID()}`;
}

/** One HTTP exchange with retries, timeouts and problem errors; used by every resource. */
export class Transport {
  private readonly baseUrl: string;
  private readonly retry: Required<RetryOptions>;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: ClientOptions) {
    if (!options.baseUrl) throw new TypeError('baseUrl is required');
    if (!options.apiKey) throw new TypeError('apiKey is required');
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** The configured fetch, for calls that read the response themselves (the event stream). */
  fetch(url: string, init: RequestInit): Promise<Response> {
    return this.fetchImpl(url, init);
  }

  url(path: string, query?: Call['query']): string {
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      authorization: `Bearer ${this.options.apiKey}`,
      accept: 'application/json',
      ...(this.options.userAgent ? { 'user-agent': this.options.userAgent } : {}),
      ...extra,
    };
  }

  /** The parsed JSON body of a 2xx answer (undefined for 204). */
  async request<T>(call: Call, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(call, options);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    try {
      return JSON.parse(text) as T;
    } catch (cause) {
      throw new TriggersError({ code: 'invalid_response', status: response.status, detail: 'The response is not JSON.', requestId: response.headers.get('x-request-id'), cause });
    }
  }

  /** A 2xx response, after retries; anything else throws `TriggersError`. */
  async send(call: Call, options: RequestOptions = {}): Promise<Response> {
    const url = this.url(call.path, call.query);
    const headers = this.headers({ ...(call.body !== undefined ? { 'content-type': 'application/json' } : {}), ...call.headers });
    const body = call.body === undefined ? undefined : JSON.stringify(call.body);
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? 30_000;
    for (let attempt = 0; ; attempt++) {
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
      let response: Response | undefined;
      let error: TriggersError;
      try {
        response = await this.fetchImpl(url, { method: call.method, headers, body, signal });
      } catch (thrown) {
        if (options.signal?.aborted) throw new TriggersError({ code: 'aborted', status: 0, detail: 'The call was aborted.', cause: thrown });
        const timedOut = timeout.aborted;
        error = new TriggersError({
          code: timedOut ? 'timeout' : 'network_error',
          status: 0,
          detail: timedOut ? `No answer within ${timeoutMs} ms.` : `The request failed: ${describe(thrown)}`,
          cause: thrown,
        });
        // Without an idempotency key a lost answer may hide a done request: do not repeat it.
        if (!call.idempotent) throw error;
      }
      if (response) {
        if (response.ok) return response;
        error = await problemError(response);
        const retryable =
          response.status === 429 ||
          response.status === 503 ||
          (call.idempotent && (error.code === 'idempotency_key_in_progress' || response.status === 502 || response.status === 504));
        if (!retryable) throw error;
      }
      if (attempt >= this.retry.maxRetries) throw error!;
      await sleep(retryDelayMs(attempt + 1, this.retry, error!.retryAfterSeconds), options.signal).catch((reason) => {
        throw new TriggersError({ code: 'aborted', status: 0, detail: 'The call was aborted.', cause: reason });
      });
    }
  }
}

/** The error a non-2xx answer stands for: its problem document when it has one. */
export async function problemError(response: Response): Promise<TriggersError> {
  const requestId = response.headers.get('x-request-id');
  const retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'));
  const text = await response.text().catch(() => '');
  let problem: Problem | null = null;
  try {
    const parsed = JSON.parse(text) as Partial<Problem>;
    if (parsed && typeof parsed === 'object' && typeof parsed.code === 'string') problem = parsed as Problem;
  } catch {
    // Not a problem document (a proxy's HTML page): described by its status below.
  }
  return new TriggersError({
    code: problem?.code ?? statusCode(response.status),
    status: response.status,
    detail: problem?.detail ?? `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
    requestId,
    problem,
    retryAfterSeconds,
  });
}

function statusCode(status: number): Problem['code'] {
  if (status === 429) return 'rate_limited';
  if (status === 401) return 'unauthorized';
  if (status === 404) return 'not_found';
  if (status >= 500) return status === 503 || status === 502 || status === 504 ? 'unavailable' : 'internal_error';
  return 'invalid_request';
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}
