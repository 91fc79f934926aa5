import { TriggersError } from '@triggers/core/domain';
import type { DemoDeps } from '../deps.ts';
import { decideTrigger } from '../agent-rule.ts';
import { parseJiraTicket } from '../jira-ticket.ts';
import { sendNotification, submitEvent, type EmailResult } from '../actions.ts';
import { ticketEscalationEmail } from '../notification.ts';
import { analyzeTicketBodySchema, analyzeTicketResultSchema } from '../schemas.ts';
import { defineDemoRoute } from '../define-demo-route.ts';

export function makeDemoAnalyzeTicketRoute(deps: DemoDeps) {
  return defineDemoRoute({
    method: 'post',
    path: '/demo/analyze-ticket',
    operationId: 'demoAnalyzeTicket',
    summary: 'Parse a pasted Jira ticket, apply the agent rule, and submit it when it triggers',
    description:
      "Finds the key, summary, priority (Jira's Highest/High → high, Medium → normal, Low/Lowest → low) and description, then applies the composer's rule to the summary and description. " +
      'A triggered ticket is submitted as `ticket.escalated`; a notification goes to the reporter when the ticket names an email address. `submit: false` only previews.',
    body: analyzeTicketBodySchema,
    responses: { 200: { description: 'The parsed ticket, the decision, and what was submitted', schema: analyzeTicketResultSchema } },
    errors: ['invalid_json', 'invalid_request', 'payload_too_large', 'unsupported_media_type', 'rate_limited', 'unavailable'],
    handler: async ({ body, requestId }) => {
      const ticket = parseJiraTicket(body.text);
      if (ticket.summary === '' && ticket.description === '') {
        throw new TriggersError('invalid_request', { detail: 'body.text: no ticket found; paste a summary, a description or both.' });
      }
      const decision = decideTrigger({ priority: ticket.priority, description: `${ticket.summary}\n${ticket.description}`, subject: 'Ticket' });
      const ticketJson = {
        key: ticket.key,
        summary: ticket.summary,
        priority: ticket.priority,
        jira_priority: ticket.jiraPriority,
        description: ticket.description,
        reporter_email: ticket.reporterEmail,
      };
      if (!decision.triggered || body.submit === false) return { status: 200, body: { ticket: ticketJson, submitted: false, ...decision } };

      const payload = {
        event_type: 'ticket.escalated',
        source: 'console.jira',
        priority: ticket.priority,
        ticket: ticketJson,
        agent: { decision: 'trigger', reason: decision.reason, keywords: decision.keywords },
      };
      const accepted = await submitEvent(deps, payload, requestId);
      const email: EmailResult = ticket.reporterEmail
        ? await sendNotification(deps, ticketEscalationEmail({ to: ticket.reporterEmail, ticket, reason: decision.reason, eventId: accepted.event_id }))
        : { status: 'skipped', provider: deps.mailer.kind, to: null, detail: 'The ticket names no reporter email address.' };
      return { status: 200, body: { ticket: ticketJson, submitted: true, ...decision, ...accepted, payload, email } };
    },
  });
}
