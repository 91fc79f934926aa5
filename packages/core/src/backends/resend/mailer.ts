import { coerceError, DependencyError } from '../../errors.ts';
import type { MailMessage, Mailer, SentMail } from '../../ports/mailer.ts';

export interface ResendMailerOptions {
  apiKey: string;
  /** `https://api.resend.com`, or a stand-in in tests. No trailing slash needed. */
  baseUrl: string;
  /** `Name <address>` on a domain verified with Resend (`onboarding@resend.dev` works for trials). */
  from: string;
  /** Default 10 s. */
  timeoutMs?: number;
}

/** Statuses after which the same request can succeed later. */
const RETRYABLE_STATUSES = new Set([408, 429]);

/**
 * Sends through Resend's HTTP API: `POST {baseUrl}/emails` with a bearer key and
 * `{from, to, subject, text, html}`; a 2xx answer carries the email's `id`.
 * See https://resend.com/docs/api-reference/emails/send-email.
 */
export class ResendMailer implements Mailer {
  readonly kind = 'resend';
  private readonly endpoint: string;

  constructor(private readonly options: ResendMailerOptions) {
    this.endpoint = `${options.baseUrl.replace(/\/+$/, '')}/emails`;
  }

  async send(message: MailMessage): Promise<SentMail> {
    const body = JSON.stringify({
      from: this.options.from,
      to: [message.to],
      subject: message.subject,
      text: message.text,
      ...(message.html === undefined ? {} : { html: message.html }),
    });
    let response: Response;
    try {
      response = await fetch(this.endpoint, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.options.apiKey}`,
          'content-type': 'application/json',
          'user-agent': 'Zapier-Triggers-API/1.0',
        },
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (thrown) {
      const error = coerceError(thrown);
      const what = error.name === 'TimeoutError' ? 'timed out' : `failed: ${error.message}`;
      throw new DependencyError('resend', `sending an email ${what}`, { cause: error, retryable: true });
    }
    const text = await response.text().catch(() => '');
    const answer = parseJson(text);
    if (!response.ok) {
      // Resend answers {statusCode, name, message}; the key never appears in it.
      const reason = typeof answer?.message === 'string' ? `: ${answer.message.slice(0, 300)}` : '';
      throw new DependencyError('resend', `answered ${response.status}${reason}`, {
        retryable: response.status >= 500 || RETRYABLE_STATUSES.has(response.status),
      });
    }
    if (typeof answer?.id !== 'string' || answer.id.length === 0) {
      throw new DependencyError('resend', `answered ${response.status} without an email id`, { retryable: false });
    }
    return { id: answer.id, provider: this.kind };
  }
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function createResendMailer(options: ResendMailerOptions): ResendMailer {
  return new ResendMailer(options);
}
