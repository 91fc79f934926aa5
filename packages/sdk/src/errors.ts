import type { Problem } from './api.gen.ts';

/** Codes the SDK itself uses when no problem document came back. */
export type ClientErrorCode = 'network_error' | 'timeout' | 'invalid_response' | 'aborted';

/**
 * Every failure the SDK reports: an RFC 9457 problem from the server (`code` from its closed
 * table, `status`, `detail`, `requestId` from `X-Request-Id`), or a client-side failure
 * (`status` 0, `code` one of `ClientErrorCode`).
 */
export class TriggersError extends Error {
  readonly code: Problem['code'] | ClientErrorCode;
  readonly status: number;
  readonly detail: string;
  readonly requestId: string | null;
  /** The whole problem document when the server sent one (`errors` for a batch, ...). */
  readonly problem: Problem | null;
  /** Seconds the server asked to wait (`Retry-After`), when it did. */
  readonly retryAfterSeconds: number | null;

  constructor(init: {
    code: Problem['code'] | ClientErrorCode;
    status: number;
    detail: string;
    requestId?: string | null;
    problem?: Problem | null;
    retryAfterSeconds?: number | null;
    cause?: unknown;
  }) {
    super(`${init.status ? `${init.status} ` : ''}${init.code}: ${init.detail}`, { cause: init.cause });
    this.name = 'TriggersError';
    this.code = init.code;
    this.status = init.status;
    this.detail = init.detail;
    this.requestId = init.requestId ?? null;
    this.problem = init.problem ?? null;
    this.retryAfterSeconds = init.retryAfterSeconds ?? null;
  }
}

/** A webhook whose signature, timestamp or headers do not check out. */
export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}
