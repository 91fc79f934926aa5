/**
 * One error family for the whole system. Every error a client can see has a stable `code`
 * from the closed table below; the HTTP layer renders it as RFC 9457 problem+json.
 */
export const ERROR_CODES = {
  invalid_json: { status: 400, title: 'Invalid JSON' },
  invalid_request: { status: 400, title: 'Invalid request' },
  invalid_selector: { status: 400, title: 'Invalid event selector' },
  invalid_webhook_url: { status: 400, title: 'Invalid webhook URL' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  idempotency_key_in_progress: { status: 409, title: 'Idempotency key in progress' },
  subscription_managed_by_resource: { status: 409, title: 'Subscription managed by a Kubernetes resource' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  idempotency_key_reused: { status: 422, title: 'Idempotency key reused' },
  rate_limited: { status: 429, title: 'Too many requests' },
  request_header_too_large: { status: 431, title: 'Request header fields too large' },
  internal_error: { status: 500, title: 'Internal server error' },
  unavailable: { status: 503, title: 'Service unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorOptions {
  detail?: string;
  cause?: unknown;
  /** Extra members for the problem document, e.g. `errors` for batch validation. */
  extensions?: Record<string, unknown>;
  /** Response headers that belong to this error (Retry-After, WWW-Authenticate, ...). */
  headers?: Record<string, string>;
  retryable?: boolean;
}

export class TriggersError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string;
  readonly retryable: boolean;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, options: ErrorOptions = {}) {
    super(options.detail ?? ERROR_CODES[code].title, { cause: options.cause });
    this.name = 'TriggersError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.detail = options.detail ?? ERROR_CODES[code].title;
    this.retryable = options.retryable ?? (this.status >= 500 || this.status === 429);
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }
}

/**
 * A backend (database, queue, cache) failed. Adapters wrap vendor errors in this and decide
 * whether a retry can help. The HTTP layer renders it as `503 unavailable` without the cause.
 */
export class DependencyError extends Error {
  readonly backend: string;
  readonly retryable: boolean;
  /** `storage_full`: the backend's disk is full (SQLITE_FULL); said in the 503 and on `/ready`. */
  readonly reason: 'storage_full' | undefined;
  constructor(backend: string, message: string, options: { cause?: unknown; retryable?: boolean; reason?: 'storage_full' } = {}) {
    super(`${backend}: ${message}`, { cause: options.cause });
    this.name = 'DependencyError';
    this.backend = backend;
    this.retryable = options.retryable ?? true;
    this.reason = options.reason;
  }
}

/** Every `catch` goes through here so that non-Error throwables become Errors. */
export function coerceError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(typeof thrown === 'string' ? thrown : JSON.stringify(thrown));
}

export function toTriggersError(thrown: unknown): TriggersError {
  if (thrown instanceof TriggersError) return thrown;
  if (thrown instanceof DependencyError) {
    const detail =
      thrown.reason === 'storage_full'
        ? "The server's storage is full; nothing was accepted. Retry later."
        : 'A backend is unavailable; nothing was accepted. Retry later.';
    return new TriggersError('unavailable', { detail, cause: thrown });
  }
  return new TriggersError('internal_error', { detail: 'An unexpected error occurred.', cause: coerceError(thrown) });
}
