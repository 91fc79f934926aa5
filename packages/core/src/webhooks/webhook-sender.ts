import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { Agent } from 'undici';
import type { SsrfAllow } from '../domain/delivery/ssrf-policy.ts';
import { coerceError } from '../errors.ts';
import {
  InvalidRedirectError,
  InvalidWebhookUrlError,
  SsrfBlockedError,
  TooManyRedirectsError,
  WebhookTimeoutError,
} from '../domain/delivery/errors.ts';
import { isRedirect } from '../domain/delivery/outcome.ts';
import { checkWebhookUrl } from '../domain/delivery/ssrf-policy.ts';
import { createSsrfSafeConnector, type LookupFunction } from './ssrf-connector.ts';

/**
 * POSTs one webhook: the I/O edge of delivery. It never throws for a failed delivery; the
 * result carries either the receiver's status or the error, and the deliverer classifies it
 * with `classifyResponse` / `classifyError`.
 */

export interface WebhookSenderOptions {
  /** For the whole send: connect, every redirect hop and the response (`TRIGGERS_WEBHOOK_TIMEOUT_MS`). */
  timeoutMs: number;
  ssrfAllow: SsrfAllow;
  /** DNS resolution; tests inject one to map names to 127.0.0.1 or to forbidden addresses. */
  lookup?: LookupFunction;
  /** Default 5. */
  maxRedirects?: number;
  /** Default `Zapier-Triggers-API/1.0`. */
  userAgent?: string;
  /**
   * Connections kept per origin; a request beyond them waits for one, inside its timeout. Default
   * 32; the deliverer passes its per-origin share (`TRIGGERS_DELIVERER_MAX_PER_ORIGIN`).
   */
  connectionsPerOrigin?: number;
}

export interface WebhookRequest {
  url: string;
  /** Sent as is: the signature covers these exact bytes. */
  body: string;
  /** Content-Type and the `webhook-*` headers; re-sent unchanged on every redirect hop. */
  headers: Record<string, string>;
}

export interface WebhookResponse {
  /** The final response's status; `null` when no response arrived. */
  statusCode: number | null;
  headers: IncomingHttpHeaders;
  /** The first 1 KiB of the response body as text. */
  bodyPrefix: string;
  durationMs: number;
  /** Redirects followed. */
  redirects: number;
  /** The URL of the last hop. */
  url: string;
  /**
   * Why the send did not complete: `SsrfBlockedError`, `WebhookTimeoutError`,
   * `TooManyRedirectsError`, `InvalidRedirectError`, `InvalidWebhookUrlError`, or a network error.
   * When set, classify the attempt by the error, not by `statusCode`.
   */
  error?: Error;
}

export interface WebhookSender {
  /** `timeoutMs` replaces the sender's timeout for this request (a subscription's own `timeout_ms`). */
  send(request: WebhookRequest, options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<WebhookResponse>;
  /** Closes pooled connections. */
  close(): Promise<void>;
}

export const DEFAULT_USER_AGENT = 'Zapier-Triggers-API/1.0';
export const RESPONSE_PREFIX_BYTES = 1024;
/** Past the prefix, up to this much is read and dropped so the connection can be reused; beyond, it is closed. */
const DRAIN_LIMIT_BYTES = 64 * 1024;
const UNDICI_TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export function createWebhookSender(options: WebhookSenderOptions): WebhookSender {
  const { timeoutMs: defaultTimeoutMs, ssrfAllow, lookup, maxRedirects = 5, userAgent = DEFAULT_USER_AGENT, connectionsPerOrigin = 32 } = options;
  const agent = new Agent({
    connect: createSsrfSafeConnector({ allow: ssrfAllow, lookup, connectTimeoutMs: defaultTimeoutMs }),
    headersTimeout: defaultTimeoutMs,
    bodyTimeout: defaultTimeoutMs,
    keepAliveTimeout: 4_000,
    keepAliveMaxTimeout: 60_000,
    connections: connectionsPerOrigin,
  });

  async function send(request: WebhookRequest, sendOptions: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<WebhookResponse> {
    const started = performance.now();
    const timeoutMs = sendOptions.timeoutMs ?? defaultTimeoutMs;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new WebhookTimeoutError(timeoutMs)), timeoutMs);
    const signal = sendOptions.signal ? AbortSignal.any([deadline.signal, sendOptions.signal]) : deadline.signal;
    const headers = withDefaultHeaders(request.headers, userAgent);
    let url = request.url;
    let redirects = 0;
    const result = (fields: Partial<WebhookResponse>): WebhookResponse => ({
      statusCode: null,
      headers: {},
      bodyPrefix: '',
      durationMs: Math.round(performance.now() - started),
      redirects,
      url,
      ...fields,
    });

    try {
      for (;;) {
        const target = checkedUrl(url, redirects > 0);
        const response = await agent.request({
          origin: target.origin,
          path: `${target.pathname}${target.search}`,
          method: 'POST',
          headers,
          body: request.body,
          signal,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        const location = firstHeader(response.headers.location);
        if (isRedirect(response.statusCode) && location !== undefined) {
          await readPrefix(response.body, 0);
          if (redirects >= maxRedirects) {
            return result({ statusCode: response.statusCode, headers: response.headers, error: new TooManyRedirectsError(maxRedirects) });
          }
          url = resolveLocation(location, target);
          redirects += 1;
          continue;
        }
        const prefix = await readPrefix(response.body, RESPONSE_PREFIX_BYTES);
        return result({
          statusCode: response.statusCode,
          headers: response.headers,
          // `stream: true` holds back a character cut in half at the 1 KiB boundary.
          bodyPrefix: new TextDecoder('utf-8').decode(prefix, { stream: true }),
        });
      }
    } catch (thrown) {
      return result({ error: normalizeError(thrown, signal, timeoutMs) });
    } finally {
      clearTimeout(timer);
    }
  }

  function checkedUrl(url: string, isRedirectHop: boolean): URL {
    const check = checkWebhookUrl(url, ssrfAllow);
    if (check.ok) return check.url;
    if (check.blocked) throw new SsrfBlockedError(check.blocked.host, check.blocked.address, check.reason);
    throw isRedirectHop ? new InvalidRedirectError(url, check.reason) : new InvalidWebhookUrlError(check.reason);
  }

  return {
    send,
    close: () => agent.close(),
  };
}

function withDefaultHeaders(headers: Record<string, string>, userAgent: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  out['user-agent'] = userAgent;
  out['content-type'] ??= 'application/json';
  return out;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function resolveLocation(location: string, base: URL): string {
  try {
    return new URL(location, base).href;
  } catch {
    throw new InvalidRedirectError(location, 'not a valid URL');
  }
}

/**
 * Keeps the first `limit` bytes; drains a modest remainder so the connection can be reused and
 * closes the connection on anything larger, so a huge body is never buffered.
 */
async function readPrefix(body: Readable, limit: number): Promise<Buffer> {
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let seenBytes = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      seenBytes += chunk.length;
      if (keptBytes < limit) {
        const part = chunk.subarray(0, limit - keptBytes);
        kept.push(part);
        keptBytes += part.length;
      }
      if (seenBytes > limit + DRAIN_LIMIT_BYTES) break; // leaving the loop destroys the stream
    }
  } catch {
    // The status line and headers already arrived; a body that breaks off does not undo them.
  }
  return Buffer.concat(kept);
}

function normalizeError(thrown: unknown, signal: AbortSignal, timeoutMs: number): Error {
  const error = coerceError(thrown);
  if (signal.aborted && signal.reason instanceof Error && (error === signal.reason || error.name === 'AbortError')) return signal.reason;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && UNDICI_TIMEOUT_CODES.has(code)) return new WebhookTimeoutError(timeoutMs, { cause: error });
  return error;
}
