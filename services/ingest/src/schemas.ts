import { z } from 'zod';
import { isoTime, uuid } from '@triggers/core/http';

export const MAX_BATCH_EVENTS = 500;

/**
 * Deeper payloads are a client error: whoever reads them (our matcher, a receiver's JSON parser)
 * parses them recursively, and many parsers stop far earlier than a few thousand levels.
 * 128 is serde_json's default recursion limit. Measured on the payload's text when it is located
 * in the body (locateEventPayload), not by walking the parsed value again.
 */
export const MAX_PAYLOAD_DEPTH = 128;

export const PAYLOAD_TOO_DEEP = `must not nest objects and arrays more than ${MAX_PAYLOAD_DEPTH} levels deep`;

export const payloadSchema = z
  .record(z.string(), z.unknown())
  .meta({
    description: `Any JSON object, nested at most ${MAX_PAYLOAD_DEPTH} levels deep. \`event_type\` (string) is the conventional type used by selectors and inbox filters. Kept as the JSON text sent and served as it (reads, stream, webhooks): numbers beyond a double are never rounded; only whitespace between tokens is dropped.`,
    example: { event_type: 'order.created', order_id: '12345', amount: 99.99 },
  });

export const eventRequestSchema = z.strictObject({ payload: payloadSchema });

/**
 * True only for `{"payload": {...}}` with no other key and no own `__proto__` key in the payload:
 * a value `eventRequestSchema` accepts and returns unchanged. Ingest checks each event with it first and gives the schema only the rest
 * (for its error messages): the schema's copy of every payload was ~2 % of a single event's CPU
 * and ~4 % of a batch's.
 */
export function isPlainEventRequest(value: unknown): value is { payload: Record<string, unknown> } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  let keys = 0;
  for (const key in value) {
    if (key !== 'payload') return false;
    keys++;
  }
  const payload = (value as { payload?: unknown }).payload;
  // The schema's copy drops an own `__proto__` key (the stored text keeps it): not unchanged.
  return keys === 1 && typeof payload === 'object' && payload !== null && !Array.isArray(payload) && !Object.hasOwn(payload, '__proto__');
}

export const batchRequestSchema = z.strictObject({
  events: z.array(eventRequestSchema).min(1).max(MAX_BATCH_EVENTS),
});

export const acceptedEventSchema = z.object({
  event_id: uuid.meta({ description: 'UUIDv7' }),
  status: z.literal('accepted'),
  message: z.string(),
  timestamp: isoTime,
});

export const acceptedBatchSchema = z.object({
  events: z.array(z.object({ event_id: uuid, status: z.literal('accepted'), timestamp: isoTime })),
});

/** Validates the header and documents it, so the two cannot drift. */
export const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x20-\x7e]*$/, 'must be printable ASCII');

export const idempotencyKeyHeader = {
  name: 'Idempotency-Key',
  description: '1–255 printable ASCII characters. Scoped per customer, kept 24 h: a repeat with the same body replays the first answer.',
  schema: idempotencyKeySchema,
};

export const rateLimitHeaders = [
  { name: 'RateLimit-Limit', description: 'Bucket capacity (events).' },
  { name: 'RateLimit-Remaining', description: 'Events left in the bucket.' },
  { name: 'RateLimit-Reset', description: 'Seconds until the bucket is full.' },
];
