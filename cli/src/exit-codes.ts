import { TriggersError, WebhookVerificationError } from '@triggers/sdk';

/** Exit codes scripts can rely on (docs/cli.md lists them). */
export const EXIT = {
  ok: 0,
  /** Anything unexpected (a bug, a local I/O error). */
  failure: 1,
  /** Bad arguments, flags, JSON input or configuration. */
  usage: 2,
  /** The API refused the request (a 4xx problem other than 401 and 404). */
  rejected: 3,
  /** The API key is missing, unknown, revoked or expired (401). */
  unauthorized: 4,
  /** No such event or subscription (404). */
  notFound: 5,
  /** The server could not be reached or answered 5xx/429 after the retries. */
  unavailable: 6,
  /** `verify`: the webhook's signature or timestamp does not check out. */
  invalidSignature: 7,
} as const;

/** A problem with what the user typed: exit 2 with this message. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof WebhookVerificationError) return EXIT.invalidSignature;
  if (error instanceof TriggersError) {
    if (error.status === 401) return EXIT.unauthorized;
    if (error.status === 404) return EXIT.notFound;
    if (error.status === 0 || error.status === 429 || error.status >= 500) return EXIT.unavailable;
    return EXIT.rejected;
  }
  return EXIT.failure;
}
