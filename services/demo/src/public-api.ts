import { coerceError, ERROR_CODES, TriggersError, type ErrorCode } from '@triggers/core/domain';
import type { Logger } from '@triggers/core/runtime';

/**
 * The demo back end is a client of the public API, like any customer's system: it calls
 * `/api/v1/*` over HTTP with the demo customer's key, so the console exercises authentication,
 * validation, rate limits and the ingest path exactly as documented.
 */

export interface PublicApiRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** `/api/v1/...` */
  path: string;
  apiKey: string;
  query?: Record<string, string | undefined>;
  json?: unknown;
  /** Forwarded as `X-Request-Id`, so both hops log under one id. */
  requestId?: string;
}

export interface PublicApiResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, or undefined for an empty body. */
  body: unknown;
}

export interface PublicApiClient {
  /** Any HTTP answer resolves; only an unreachable API rejects (`503 unavailable`). */
  send(request: PublicApiRequest): Promise<PublicApiResponse>;
}

export interface PublicApiClientOptions {
  /** Resolved per call: the all-in-one only knows its own address once it listens. */
  baseUrl: () => string;
  log: Logger;
  /** Default 15 s. */
  timeoutMs?: number;
}

export function createPublicApiClient(options: PublicApiClientOptions): PublicApiClient {
  const timeoutMs = options.timeoutMs ?? 15_000;
  return {
    async send(request) {
      const base = options.baseUrl();
      const url = new URL(request.path, `${base}/`);
      for (const [name, value] of Object.entries(request.query ?? {})) {
        if (value !== undefined && value !== '') url.searchParams.set(name, value);
      }
      const headers: Record<string, string> = { authorization: `Bearer ${request.apiKey}`, accept: 'application/json' };
      if (request.requestId) headers['x-request-id'] = request.requestId;
      if (request.json !== undefined) headers['content-type'] = 'application/json';
      let response: Response;
      try {
        response = await fetch(url, {
          method: request.method,
          headers,
          body: request.json === undefined ? undefined : JSON.stringify(request.json),
          redirect: 'error',
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (thrown) {
        // The address is logged, never returned: it may be an internal host name.
        options.log.error({ err: coerceError(thrown), path: request.path, base }, 'Failed to reach the public API from the demo');
        throw new TriggersError('unavailable', { detail: 'The demo could not reach the public API. Retry later.' });
      }
      const text = await response.text();
      let body: unknown = undefined;
      if (text !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
      }
      return { status: response.status, headers: response.headers, body };
    },
  };
}

/** Headers of a public API error worth passing on to the console. */
const RELAYED_HEADERS = ['retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'];

/**
 * The public API's problem answer as our own error, so the console sees the same status, code
 * and detail (`400 invalid_selector: selectors[0].value: ...`) it would get calling the API.
 */
export function relayedError(response: PublicApiResponse): TriggersError {
  const problem = (typeof response.body === 'object' && response.body !== null ? response.body : {}) as Record<string, unknown>;
  const code = typeof problem.code === 'string' && problem.code in ERROR_CODES ? (problem.code as ErrorCode) : undefined;
  const headers: Record<string, string> = {};
  for (const name of RELAYED_HEADERS) {
    const value = response.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  if (!code || code === 'unauthorized' || ERROR_CODES[code].status >= 500) {
    // A 401 here means the demo's own key failed (the caller renews it); 5xx stay generic.
    return new TriggersError(response.status === 429 ? 'rate_limited' : 'unavailable', {
      detail: 'The public API could not answer the demo. Retry later.',
      headers,
    });
  }
  const extensions: Record<string, unknown> = {};
  if (Array.isArray(problem.errors)) extensions.errors = problem.errors;
  return new TriggersError(code, { detail: typeof problem.detail === 'string' ? problem.detail : undefined, headers, extensions });
}
