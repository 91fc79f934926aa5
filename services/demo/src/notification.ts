import type { MailMessage } from '@triggers/core/ports';
import type { Priority } from './agent-rule.ts';
import type { JiraTicket } from './jira-ticket.ts';

/** The demo's notification emails: plain text, and a small HTML version with every value escaped. */

export function documentEscalationEmail(input: {
  to: string;
  documentType: string;
  priority: Priority;
  description: string;
  reason: string;
  eventId: string;
}): MailMessage {
  const subject = `[Triggers demo] ${capitalise(input.priority)}-priority ${input.documentType} escalated`;
  const rows: [string, string][] = [
    ['Document type', input.documentType],
    ['Priority', input.priority],
    ['Why', input.reason],
    ['Event id', input.eventId],
  ];
  return render(input.to, subject, 'A document was escalated', rows, input.description);
}

export function ticketEscalationEmail(input: { to: string; ticket: JiraTicket; reason: string; eventId: string }): MailMessage {
  const { ticket } = input;
  const title = [ticket.key, ticket.summary].filter(Boolean).join(': ') || 'Jira ticket';
  const subject = `[Triggers demo] Ticket escalated — ${title}`.slice(0, 200);
  const rows: [string, string][] = [
    ['Ticket', ticket.key ?? '(no key)'],
    ['Summary', ticket.summary || '(none)'],
    ['Priority', ticket.jiraPriority ? `${ticket.jiraPriority} (${ticket.priority})` : ticket.priority],
    ['Why', input.reason],
    ['Event id', input.eventId],
  ];
  return render(input.to, subject, 'A Jira ticket was escalated', rows, ticket.description);
}

function render(to: string, subject: string, heading: string, rows: [string, string][], body: string): MailMessage {
  const text = [
    `${heading}.`,
    '',
    ...rows.map(([label, value]) => `${label}: ${value}`),
    '',
    body,
    '',
    '— Sent by the Triggers console demo. The event went through POST /api/v1/events like any other.',
  ].join('\n');
  const html = [
    '<div style="font-family:system-ui,sans-serif;max-width:560px">',
    `<h2 style="color:#FF4A00;margin:0 0 12px">${escapeHtml(heading)}</h2>`,
    '<table style="border-collapse:collapse">',
    ...rows.map(([label, value]) => `<tr><th style="text-align:left;padding:2px 12px 2px 0;color:#555">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`),
    '</table>',
    `<p style="white-space:pre-wrap">${escapeHtml(body)}</p>`,
    '<p style="color:#777;font-size:12px">Sent by the Triggers console demo.</p>',
    '</div>',
  ].join('');
  return { to, subject, text, html };
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
