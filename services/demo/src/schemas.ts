import { z } from 'zod';
import { emailAddress, isoTime, nonBlankText, queryInteger, uuid } from '@triggers/core/http';
import { PRIORITIES, URGENT_KEYWORDS } from './agent-rule.ts';

export const triggerBodySchema = z.strictObject({
  document_type: nonBlankText(100, { message: 'is required', example: 'Contract' }),
  priority: z.enum(PRIORITIES),
  description: nonBlankText(5000, { message: 'is required', example: 'The customer is angry: the renewal was charged twice.' }),
  customer_email: emailAddress,
});

export const emailResultSchema = z
  .object({
    status: z.enum(['sent', 'failed', 'skipped']),
    provider: z.string().meta({ description: '`outbox` (shown in the console) or `resend`.' }),
    to: z.string().nullable(),
    id: z.string().optional().meta({ description: "The provider's message id." }),
    detail: z.string().optional().meta({ description: 'Why it failed or was skipped.' }),
  })
  .meta({ description: 'The notification email. A failed email never undoes the submitted event.' });

const decisionFields = {
  triggered: z.boolean(),
  reason: z.string().meta({ example: 'Priority is high' }),
  keywords: z.array(z.enum(URGENT_KEYWORDS)).meta({ description: 'The urgent keywords found.' }),
  event_id: uuid.optional().meta({ description: 'Set when the event was submitted (through POST /api/v1/events).' }),
  timestamp: isoTime.optional(),
  payload: z.record(z.string(), z.unknown()).optional().meta({ description: 'The payload submitted.' }),
  email: emailResultSchema.optional(),
};

export const triggerResultSchema = z.object(decisionFields);

export const analyzeTicketBodySchema = z.strictObject({
  text: nonBlankText(50_000, { message: 'is required' }).meta({ description: 'The ticket as pasted from Jira (at least one character that is not white space).' }),
  submit: z.boolean().optional().meta({ description: 'false only parses and decides (a preview); default true.', default: true }),
});

export const ticketSchema = z.object({
  key: z.string().nullable().meta({ example: 'SUP-4711' }),
  summary: z.string(),
  priority: z.enum(PRIORITIES).meta({ description: "Mapped from Jira's: Highest/High → high, Medium → normal, Low/Lowest → low." }),
  jira_priority: z.string().nullable(),
  description: z.string(),
  reporter_email: z.string().nullable(),
});

export const analyzeTicketResultSchema = z.object({ ticket: ticketSchema, submitted: z.boolean(), ...decisionFields });

export const demoStatusSchema = z.object({
  customer_id: uuid.meta({ description: "The demo customer's id (its API key stays on the server)." }),
  customer_name: z.string(),
  mail: z.object({ provider: z.string(), from: z.string() }),
  webhook_sink: z.object({ workflow_id: uuid, url: z.string() }).nullable().meta({ description: 'The built-in receiver the default subscription delivers to.' }),
  urgent_keywords: z.array(z.string()),
});

export const selectorTestBodySchema = z.strictObject({
  event_selector: z.unknown().meta({ description: 'A selector as for POST /api/v1/subscriptions.' }),
  payload: z.record(z.string(), z.unknown()).meta({ description: 'A sample event payload.' }),
});

export const selectorTestResultSchema = z.object({
  valid: z.boolean(),
  matches: z.boolean().optional().meta({ description: 'Whether the sample payload matches (when valid).' }),
  detail: z.string().optional().meta({ description: 'What is wrong and where (when invalid), as `400 invalid_selector` would say.' }),
});

export const statsQuerySchema = z.strictObject({
  window_seconds: queryInteger(10, 3600, { default: 60 }).optional(),
  bucket_seconds: queryInteger(1, 600, { default: 2 }).optional(),
});

const bucketCounts = {
  total: z.number().int(),
  delivered: z.number().int(),
  pending: z.number().int(),
  failed: z.number().int(),
  unmatched: z.number().int(),
};

export const statsSchema = z.object({
  window_seconds: z.number().int(),
  bucket_seconds: z.number(),
  buckets: z.array(z.object({ start: isoTime, ...bucketCounts })).meta({ description: 'Oldest first; the last is still filling.' }),
  totals: z.object(bucketCounts),
  rate_per_second: z.number().meta({ description: 'Events per second over the last complete 10 s.' }),
  truncated: z.boolean().meta({ description: 'True when the window held more events than were counted.' }),
});

export const outboxQuerySchema = z.strictObject({
  limit: queryInteger(1, 200, { default: 50 }).optional().meta({ description: 'How many, 1–200 (default 50).' }),
});

export const outboxSchema = z.object({
  provider: z.string().meta({ description: '`outbox`, or `resend` (then the outbox stays empty).' }),
  from: z.string(),
  messages: z.array(
    z.object({ id: z.string(), from: z.string(), to: z.string(), subject: z.string(), text: z.string(), html: z.string().optional(), created_at: isoTime }),
  ),
});

export const burstBodySchema = z.strictObject({
  count: z.number().int().min(1).max(100).optional().meta({ default: 20 }),
});

export const burstResultSchema = z.object({ accepted: z.number().int(), event_ids: z.array(uuid) });

export const sinkReceiptSchema = z.object({
  received_at: isoTime,
  webhook_id: z.string().nullable(),
  signature_verified: z.boolean(),
  event_ids: z.array(z.string()),
  event_types: z.array(z.string().nullable()),
  bytes: z.number().int(),
});

export const sinkReceiptsSchema = z.object({
  workflow_id: uuid.nullable(),
  receipts: z.array(sinkReceiptSchema),
});
