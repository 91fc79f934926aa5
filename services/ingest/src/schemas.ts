import { z } from 'zod';
import { isoTime, uuid } from '@triggers/core/http/schemas.ts';

export const MAX_BATCH_EVENTS = 500;

export const payloadSchema = z
  .record(z.string(), z.unknown())
  .meta({
    description: 'Any JSON object. `event_type` (string) is the conventional type used by selectors and inbox filters.',
    example: { event_type: 'order.created', order_id: '12345', amount: 99.99 },
  });

export const eventRequestSchema = z.strictObject({ payload: payloadSchema });

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

export const idempotencyKeyHeader = {
  name: 'Idempotency-Key',
  description: '1–255 printable ASCII characters. Scoped per customer, kept 24 h: a repeat with the same body replays the first answer.',
  schema: z.string().min(1).max(255),
};

export const rateLimitHeaders = [
  { name: 'RateLimit-Limit', description: 'Bucket capacity (events).' },
  { name: 'RateLimit-Remaining', description: 'Events left in the bucket.' },
  { name: 'RateLimit-Reset', description: 'Seconds until the bucket is full.' },
];
