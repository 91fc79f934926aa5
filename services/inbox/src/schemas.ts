import { z } from 'zod';
import { emailAddress, isoTime, queryInteger, uuid, nonBlankText } from '@triggers/core/http';
import { DELIVERY_STATUSES } from '@triggers/core/ports';
import { EVENT_STATUSES, ATTEMPT_STATUSES, SUBSCRIPTION_STATUSES, SUBSCRIPTION_ORDERINGS, CUSTOMER_STATUSES, MAX_EVENT_TYPE_LENGTH, MAX_EXPRESSION_LENGTH, RETRY_POLICY_LIMITS, type CustomOperator } from '@triggers/core/domain';

// ---------------------------------------------------------------------------------------------
// Query parameters (strings on the wire; parsed here so the handlers get numbers and epoch ms)

export const MAX_PAGE_LIMIT = 1000;
export const DEFAULT_PAGE_LIMIT = 100;

export const pageLimit = queryInteger(1, MAX_PAGE_LIMIT, { default: DEFAULT_PAGE_LIMIT })
  .optional()
  .meta({ description: `Page size, 1–${MAX_PAGE_LIMIT} (default ${DEFAULT_PAGE_LIMIT}).` });

export const pageCursor = z
  .string()
  .min(1)
  .max(2048)
  .optional()
  .meta({ description: 'Opaque: the `cursor` of the previous page.' });

/**
 * An RFC 3339 time as epoch milliseconds. A fraction finer than a millisecond rounds up, so that
 * "inclusive start, exclusive end" stays exact against millisecond event timestamps.
 */
export function rfc3339ToEpochMs(value: string): number {
  const ms = Date.parse(value);
  const fraction = /\.(\d+)/.exec(value)?.[1] ?? '';
  return /[1-9]/.test(fraction.slice(3)) ? ms + 1 : ms;
}

export const rfc3339Time = z.iso
  .datetime({ offset: true, error: 'must be an RFC 3339 time such as 2026-01-15T10:30:00.123Z' })
  .transform(rfc3339ToEpochMs);

export const inboxQuerySchema = z
  .strictObject({
    event_type: z.string().min(1).optional().meta({ description: 'Only events whose `payload.event_type` equals this.' }),
    status: z.enum(EVENT_STATUSES).optional().meta({ description: 'Only events in this status.' }),
    start_time: rfc3339Time.optional().meta({ description: 'RFC 3339; events at or after this time (inclusive).' }),
    end_time: rfc3339Time.optional().meta({ description: 'RFC 3339; events before this time (exclusive).' }),
    limit: pageLimit,
    cursor: pageCursor,
  })
  .refine((q) => q.start_time === undefined || q.end_time === undefined || q.start_time < q.end_time, {
    message: 'must be before end_time',
    path: ['start_time'],
  });

export const pageQuerySchema = z.strictObject({ limit: pageLimit, cursor: pageCursor });

// ---------------------------------------------------------------------------------------------
// Path parameters. Ids are checked by the handlers, not here: a malformed id is 404, like an
// unknown one, so that ids never leak through a different answer.

export const eventIdParams = z.object({ event_id: z.string().meta({ description: 'The event id (UUIDv7).', format: 'uuid' }) });
export const workflowIdParams = z.object({ workflow_id: z.string().meta({ description: 'The subscription id (UUID).', format: 'uuid' }) });
export const customerIdParams = z.object({ customer_id: z.string().meta({ description: 'The customer id (UUID).', format: 'uuid' }) });
export const keyIdParams = z.object({ key_id: z.string().meta({ description: 'The API key id (UUID).', format: 'uuid' }) });

// ---------------------------------------------------------------------------------------------
// Events

export const eventSchema = z.object({
  event_id: uuid.meta({ description: 'UUIDv7' }),
  customer_id: uuid,
  payload: z.record(z.string(), z.unknown()),
  status: z.enum(EVENT_STATUSES),
  timestamp: isoTime,
  delivery_attempts: z.number().int().meta({ description: 'Every delivery attempt for the event, across subscriptions.' }),
  last_delivery_timestamp: isoTime.nullable(),
});

export const attemptSchema = z.object({
  workflow_id: uuid,
  attempt: z.number().int().meta({ description: '1 for the first attempt of a delivery.' }),
  status: z.enum(ATTEMPT_STATUSES),
  status_code: z.number().int().nullable().meta({ description: 'The HTTP status the webhook answered; null when none (timeout, connection error).' }),
  error: z.string().nullable(),
  duration_ms: z.number(),
  timestamp: isoTime,
});

export const deliverySchema = z.object({
  workflow_id: uuid,
  status: z.enum(DELIVERY_STATUSES).meta({ description: '`pending` while attempts remain (or the first is due), then `succeeded` or `failed`.' }),
  attempts_made: z.number().int().meta({ description: 'Attempts made so far; the subscription\'s `retry.max_attempts` (or the setting) is the most there will be.' }),
  next_attempt_at: isoTime.nullable().meta({ description: 'When the next attempt is due (a retry\'s time); null once the delivery has ended.' }),
  failure_reason: z.string().nullable().meta({ description: 'Why it ended `failed`.' }),
  created_at: isoTime,
});

export const eventWithAttemptsSchema = eventSchema.extend({
  attempts: z.array(attemptSchema).meta({ description: 'Oldest first.' }),
  deliveries: z.array(deliverySchema).meta({ description: 'One per subscription the event was delivered to (and one more per replay), oldest first.' }),
});

export const inboxPageSchema = z.object({
  events: z.array(eventSchema).meta({ description: 'Newest first.' }),
  total: z.number().int().meta({ description: 'The number of events in this page.' }),
  cursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null when `has_more` is false.' }),
  has_more: z.boolean(),
});

// ---------------------------------------------------------------------------------------------
// Event selectors. The selector compiler is the authority on what is valid (JSONPath syntax,
// regex dialect, nesting limits); this schema describes the shape for OpenAPI and the types.
// Nested selectors are described loosely so that the OpenAPI document has no recursive $ref,
// which a schema embedded in an OpenAPI document cannot resolve.

const SELECTOR_TYPES = ['event_type', 'jsonpath', 'custom', 'all', 'any'] as const;

const CUSTOM_OPERATORS = [
  'equals',
  'not_equals',
  'greater_than',
  'greater_than_or_equal',
  'less_than',
  'less_than_or_equal',
  'contains',
  'not_contains',
  'starts_with',
  'ends_with',
  'in',
  'not_in',
  'exists',
  'not_exists',
  'matches',
] as const satisfies readonly CustomOperator[];
// Fails to compile when the domain gains an operator this list lacks.
const everyOperatorListed: Exclude<CustomOperator, (typeof CUSTOM_OPERATORS)[number]> extends never ? true : false = true;
void everyOperatorListed;

const nestedSelector = z
  .strictObject({
    type: z.enum(SELECTOR_TYPES),
    value: z.unknown().optional(),
    expression: z.unknown().optional(),
    function: z.unknown().optional(),
    selectors: z.unknown().optional(),
  })
  .meta({ description: 'A nested selector of any kind (`event_type`, `jsonpath`, `custom`, `all`, `any`), with that kind\'s members.' });

export const selectorSchema = z
  .discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('event_type'),
      value: z
        .string()
        .min(1)
        .max(MAX_EVENT_TYPE_LENGTH)
        .regex(/^(?:\*|[^*]+\.\*|[^*]+)$/, '"*" is allowed alone or as a trailing ".*" after a prefix')
        .meta({ description: 'Equal to `payload.event_type`; `order.*` matches one or more trailing segments, `*` alone any event type.' }),
    }),
    z.strictObject({
      type: z.literal('jsonpath'),
      expression: z.string().min(1).max(MAX_EXPRESSION_LENGTH).meta({ description: "RFC 9535 queries compared with == != > >= < <=, combined with && || ! and parentheses." }),
    }),
    z.strictObject({
      type: z.literal('custom'),
      function: z.strictObject({
        field: z.string().regex(/^[^.]+(?:\.[^.]+)*$/, 'must be dot-separated non-empty segments').meta({ description: 'A dotted path into the payload, e.g. `customer.tier`.' }),
        operator: z.enum(CUSTOM_OPERATORS),
        value: z.unknown().optional().meta({ description: 'Not used by `exists` and `not_exists`.' }),
      }),
    }),
    z.strictObject({ type: z.literal('all'), selectors: z.array(nestedSelector).meta({ description: 'Every one must match.' }) }),
    z.strictObject({ type: z.literal('any'), selectors: z.array(nestedSelector).meta({ description: 'At least one must match.' }) }),
  ])
  .meta({
    description: 'Which events the subscription receives. Parsed when saved: a selector that cannot be parsed is `400 invalid_selector`.',
    example: { type: 'event_type', value: 'order.*' },
  });

// ---------------------------------------------------------------------------------------------
// Subscriptions

export const batchSchema = z
  .strictObject({
    max_events: z.number().int().min(1).max(1000).meta({ description: 'At most this many events per webhook call.' }),
    window_ms: z.number().int().min(1).max(60_000).meta({ description: 'How long to collect events before a call.' }),
  })
  .meta({ description: 'Deliver matched events in batches instead of one per call.' });

const { maxAttempts: ATTEMPTS, delayMs: DELAY, scheduleLength: SCHEDULE, timeoutMs: TIMEOUT } = RETRY_POLICY_LIMITS;
const delayMs = z.number().int().min(DELAY.min).max(DELAY.max);

export const retryPolicySchema = z
  .strictObject({
    max_attempts: z.number().int().min(ATTEMPTS.min).max(ATTEMPTS.max).optional().meta({ description: `Attempts in all, the first included (${ATTEMPTS.min}–${ATTEMPTS.max}); default \`TRIGGERS_MAX_ATTEMPTS\`.` }),
    schedule_ms: z
      .array(delayMs)
      .min(SCHEDULE.min)
      .max(SCHEDULE.max)
      .optional()
      .meta({ description: `The delay after attempt 1, 2, ... (each ${DELAY.min} ms–24 h, at most ${SCHEDULE.max} entries); the last one repeats. Not with \`base_ms\`.` }),
    base_ms: delayMs.optional().meta({ description: 'The exponential schedule\'s first delay, doubled after each attempt (100 ms–24 h); default `TRIGGERS_RETRY_BASE_MS`. Not with `schedule_ms`.' }),
    max_delay_ms: delayMs.optional().meta({ description: 'The longest delay between two attempts (100 ms–24 h); default `TRIGGERS_RETRY_MAX_DELAY_MS`.' }),
  })
  .refine((policy) => !(policy.schedule_ms !== undefined && policy.base_ms !== undefined), { message: 'give schedule_ms or base_ms, not both' })
  .meta({
    description: 'This subscription\'s retry schedule; a field left out comes from the settings. Every delay gets ±20 % jitter; a `Retry-After` is honoured as usual.',
    // The refine above, stated in the document: schedule_ms and base_ms exclude each other.
    not: { required: ['schedule_ms', 'base_ms'] },
  });

const timeoutMs = z.number().int().min(TIMEOUT.min).max(TIMEOUT.max).meta({ description: 'How long one webhook request may take (1000–60000 ms); default `TRIGGERS_WEBHOOK_TIMEOUT_MS`.' });
export const orderingSchema = z.enum(SUBSCRIPTION_ORDERINGS).meta({
  description:
    '`unordered` (the default): deliveries go out in parallel, in any order. `fifo`: one at a time in event order (order of acceptance); a retrying delivery holds the ones behind it until it succeeds or fails for good, then the next goes. With `batch`, each call carries the next events in order.',
});

const HEX4 = '[0-9A-Fa-f]{1,4}';
const IPV6 = [
  `(?:${HEX4}:){7}${HEX4}`,
  `(?:${HEX4}:){1,7}:`,
  `(?:${HEX4}:){1,6}:${HEX4}`,
  ...[2, 3, 4, 5, 6].map((n) => `(?:${HEX4}:){1,${7 - n}}(?::${HEX4}){1,${n}}`),
  `${HEX4}:(?::${HEX4}){1,6}`,
  `:(?:(?::${HEX4}){1,7}|:)`,
].join('|');
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?';
// The last label starts with a letter: a name ending in a number would be read as an IPv4 address.
const HOST = `(?:(?:${LABEL}\\.)*[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?\\.?|(?:${OCTET}\\.){3}${OCTET}|\\[(?:${IPV6})\\])`;
const PORT = '(?::(?:6553[0-5]|655[0-2]\\d|65[0-4]\\d\\d|6[0-4]\\d{3}|[1-5]\\d{4}|[1-9]\\d{0,3}|0))?';

/**
 * An absolute http(s) URL whose host is a DNS name (an IDN in its `xn--` form), a dotted-quad IPv4
 * or a bracketed IPv6 address, with an optional port and no credentials. The pattern is the check
 * and its OpenAPI description; the SSRF policy (which IP addresses TRIGGERS_SSRF_ALLOW refuses) is
 * checked after it, also `400 invalid_webhook_url`.
 */
export const WEBHOOK_URL_PATTERN = new RegExp(`^[Hh][Tt][Tt][Pp][Ss]?://${HOST}${PORT}(?:[/?#]\\S*)?$`);

const webhookUrl = z
  .string()
  .min(1, 'must not be empty')
  .max(2048)
  .regex(WEBHOOK_URL_PATTERN, 'must be an absolute http(s) URL with a host name or IP address and no credentials')
  .meta({ description: 'An http(s) URL (host name or IP literal, no credentials) the SSRF policy allows.', example: 'https://example.com/webhooks/triggers' });
const description = z.string().max(1000);

export const subscriptionCreateSchema = z.strictObject({
  event_selector: selectorSchema,
  webhook_url: webhookUrl,
  description: description.nullable().optional(),
  batch: batchSchema.nullable().optional(),
  retry: retryPolicySchema.nullable().optional(),
  timeout_ms: timeoutMs.nullable().optional(),
  ordering: orderingSchema.optional(),
});

export const subscriptionUpdateSchema = z
  .strictObject({
    event_selector: selectorSchema.optional(),
    webhook_url: webhookUrl.optional(),
    description: description.nullable().optional(),
    status: z.enum(SUBSCRIPTION_STATUSES).optional().meta({ description: '`active` again clears `disabled_reason`.' }),
    batch: batchSchema.nullable().optional().meta({ description: 'null turns batching off.' }),
    retry: retryPolicySchema.nullable().optional().meta({ description: 'Replaces the whole policy; null goes back to the settings.' }),
    timeout_ms: timeoutMs.nullable().optional().meta({ description: 'null goes back to the setting.' }),
    ordering: orderingSchema.optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, { message: 'send at least one field to change' })
  .meta({ minProperties: 1 });

export const testSubscriptionCreateSchema = subscriptionCreateSchema.extend({ customer_id: uuid });

export const subscriptionSchema = z.object({
  workflow_id: uuid,
  customer_id: uuid,
  event_selector: selectorSchema,
  webhook_url: z.string(),
  description: z.string().nullable(),
  status: z.enum(SUBSCRIPTION_STATUSES),
  disabled_reason: z.string().nullable().meta({ description: 'Why the system disabled it (e.g. the webhook answered 410 Gone).' }),
  batch: batchSchema.nullable(),
  retry: retryPolicySchema.nullable().meta({ description: 'Its own retry schedule; null: the settings\' one.' }),
  timeout_ms: z.number().int().nullable().meta({ description: 'Its own webhook timeout; null: the setting.' }),
  ordering: orderingSchema,
  created_at: isoTime,
  updated_at: isoTime,
});

const secret = z.string().meta({ description: '`whsec_<base64>`: verifies the `webhook-signature` header. Shown only here.', example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' });

export const subscriptionWithSecretSchema = subscriptionSchema.extend({ secret });

export const subscriptionPageSchema = z.object({
  subscriptions: z.array(subscriptionSchema).meta({ description: 'Newest first.' }),
  cursor: z.string().nullable(),
  has_more: z.boolean(),
});

export const rotatedSecretSchema = z.object({
  workflow_id: uuid,
  secret,
  previous_secret_expires_at: isoTime.meta({ description: 'Until then deliveries carry a signature with the previous secret too.' }),
});

// ---------------------------------------------------------------------------------------------
// Admin

export const testCustomerCreateSchema = z.strictObject({
  name: nonBlankText(200),
  email: emailAddress,
});

export const testCustomerSchema = z.object({
  customer_id: uuid,
  api_key: z.string().meta({ description: '`sk_test_...`: shown only here; only its hash is stored.' }),
  key_id: uuid,
  name: z.string(),
  email: z.string(),
  status: z.literal('active'),
});

export const apiKeyCreateSchema = z.strictObject({
  expires_at: z.iso
    .datetime({ offset: true, error: 'must be an RFC 3339 time such as 2027-01-15T10:30:00.000Z' })
    .transform(rfc3339ToEpochMs)
    .nullable()
    .optional()
    .meta({ description: 'When the key stops working; never when absent.' }),
});

export const apiKeySchema = z.object({
  api_key: z.string().meta({ description: 'Shown only here; only its hash is stored.' }),
  key_id: uuid,
  customer_id: uuid,
  prefix: z.string().meta({ description: 'Identifies the key without revealing it.' }),
  created_at: isoTime,
  expires_at: isoTime.nullable(),
});

export const customerUpdateSchema = z
  .strictObject({
    rate_limit_per_second: z
      .number()
      .int()
      .min(1)
      .max(10_000_000)
      .nullable()
      .optional()
      .meta({ description: 'Events per second (and burst); null for the deployment default. Applies within 1 s.' }),
    status: z.enum(CUSTOMER_STATUSES).optional().meta({ description: '`disabled` stops every key of the customer within the key cache time.' }),
  })
  .refine((patch) => Object.keys(patch).length > 0, { message: 'send rate_limit_per_second or status' })
  .meta({ minProperties: 1 });

export const customerSchema = z.object({
  customer_id: uuid,
  name: z.string(),
  email: z.string(),
  status: z.enum(CUSTOMER_STATUSES),
  rate_limit_per_second: z.number().int().nullable().meta({ description: 'null: the deployment default.' }),
  created_at: isoTime,
});
