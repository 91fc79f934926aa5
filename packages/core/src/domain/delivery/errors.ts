/**
 * Errors of one webhook delivery attempt. None of them reaches an API client: the deliverer
 * records them on the attempt and decides from `retryable` (see `classifyError`).
 */

/** Base of the delivery errors: a stable `code` for logs and metrics, and whether a later attempt can help. */
export abstract class DeliveryError extends Error {
  abstract readonly code: string;
  abstract readonly retryable: boolean;
}

/** The destination resolved to, or named, an address the SSRF policy refuses. Never retried. */
export class SsrfBlockedError extends DeliveryError {
  readonly code = 'SSRF_BLOCKED';
  readonly retryable = false;
  constructor(
    readonly host: string,
    readonly address: string | null,
    readonly reason: string,
  ) {
    super(`Refused to connect to ${host}: ${reason}`);
    this.name = 'SsrfBlockedError';
  }
}

/** The receiver did not answer within the delivery timeout (connect, headers or body). Retried. */
export class WebhookTimeoutError extends DeliveryError {
  readonly code = 'WEBHOOK_TIMEOUT';
  readonly retryable = true;
  constructor(
    readonly timeoutMs: number,
    options: { cause?: unknown } = {},
  ) {
    super(`No response within ${timeoutMs} ms`, options);
    this.name = 'WebhookTimeoutError';
  }
}

/** The receiver kept redirecting past the hop limit. A configuration problem: never retried. */
export class TooManyRedirectsError extends DeliveryError {
  readonly code = 'TOO_MANY_REDIRECTS';
  readonly retryable = false;
  constructor(readonly maxRedirects: number) {
    super(`Stopped after ${maxRedirects} redirects`);
    this.name = 'TooManyRedirectsError';
  }
}

/** A redirect pointed at something we cannot POST to (bad Location, other scheme, credentials). Never retried. */
export class InvalidRedirectError extends DeliveryError {
  readonly code = 'INVALID_REDIRECT';
  readonly retryable = false;
  constructor(
    readonly location: string,
    readonly reason: string,
  ) {
    super(`Refused redirect to ${JSON.stringify(location)}: ${reason}`);
    this.name = 'InvalidRedirectError';
  }
}

/** The stored webhook URL itself is unusable (it passed an older check, or was stored by hand). Never retried. */
export class InvalidWebhookUrlError extends DeliveryError {
  readonly code = 'INVALID_WEBHOOK_URL';
  readonly retryable = false;
  constructor(readonly reason: string) {
    super(`Invalid webhook URL: ${reason}`);
    this.name = 'InvalidWebhookUrlError';
  }
}

/**
 * The circuit for the origin is open: nothing was sent and no attempt was spent.
 * The deliverer re-schedules the delivery `retryInMs` from now instead of failing it.
 */
export class CircuitOpenError extends DeliveryError {
  readonly code = 'CIRCUIT_OPEN';
  readonly retryable = true;
  constructor(
    readonly origin: string,
    readonly retryInMs: number,
  ) {
    super(`Circuit for ${origin} is open; retry in ${retryInMs} ms`);
    this.name = 'CircuitOpenError';
  }
}
