/** One notification email. At least one of `text` and `html`; `text` is always sent when given. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export interface SentMail {
  /** The provider's id for the message (the outbox row's id, Resend's email id). */
  id: string;
  /** Which adapter sent it: `outbox`, `resend`. */
  provider: string;
}

/**
 * Sends the demo's notification emails.
 *
 * Semantics: `send` resolves once the provider accepted the message (stored in the outbox, or
 * answered 2xx by the HTTP API). A failure throws `DependencyError` whose `retryable` says whether
 * the same message may succeed later (5xx, 429, timeouts) or never will (a refused sender or key).
 */
export interface Mailer {
  readonly kind: string;
  send(message: MailMessage): Promise<SentMail>;
}

/** A message kept in the outbox, as the console lists it. */
export interface OutboxMessage extends MailMessage {
  id: string;
  from: string;
  /** Epoch ms. */
  createdAt: number;
}

/** Reads the outbox (the default Mailer writes there); newest first. */
export interface MailOutbox {
  list(limit: number): Promise<OutboxMessage[]>;
}
