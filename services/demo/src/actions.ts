import { coerceError } from '@triggers/core/domain';
import type { MailMessage } from '@triggers/core/ports';
import type { z } from 'zod';
import type { DemoDeps } from './deps.ts';
import type { emailResultSchema } from './schemas.ts';

export type EmailResult = z.output<typeof emailResultSchema>;

/** Submits one event through `POST /api/v1/events` as the demo customer. */
export async function submitEvent(deps: DemoDeps, payload: Record<string, unknown>, requestId: string): Promise<{ event_id: string; timestamp: string }> {
  const response = await deps.customer.call({ method: 'POST', path: '/api/v1/events', json: { payload }, requestId });
  const body = response.body as { event_id: string; timestamp: string };
  return { event_id: body.event_id, timestamp: body.timestamp };
}

/**
 * Sends a notification. A failure is reported in the result, never thrown: the event is already
 * accepted, and the console should say both things.
 */
export async function sendNotification(deps: DemoDeps, message: MailMessage): Promise<EmailResult> {
  try {
    const sent = await deps.mailer.send(message);
    return { status: 'sent', provider: sent.provider, to: message.to, id: sent.id };
  } catch (thrown) {
    deps.log.warn({ err: coerceError(thrown), provider: deps.mailer.kind }, 'Failed to send a demo notification email');
    return { status: 'failed', provider: deps.mailer.kind, to: message.to, detail: 'The email could not be sent; the event was submitted all the same.' };
  }
}
