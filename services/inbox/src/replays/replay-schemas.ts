import { createHash } from 'node:crypto';
import { z } from 'zod';
import { isoTime, uuid } from '@triggers/core/http';
import { EVENT_STATUSES, TriggersError, toIsoMillis } from '@triggers/core/domain';
import { REPLAY_STATUSES, replaySettled, type Replay, type ReplayFilter } from '@triggers/core/ports';
import { rfc3339Time } from '../schemas.ts';

export const replayIdParams = z.object({ replay_id: z.string().meta({ description: 'The replay id (UUID).', format: 'uuid' }) });

const filterSchema = z
  .strictObject({
    start_time: rfc3339Time.meta({ description: 'RFC 3339; events at or after this time (inclusive). Required.' }),
    end_time: rfc3339Time.meta({ description: 'RFC 3339; events before this time (exclusive). Required.' }),
    status: z.enum(EVENT_STATUSES).optional().meta({ description: 'Only events in this status (e.g. `failed`).' }),
    event_type: z.string().min(1).max(255).optional().meta({ description: 'Only events whose `payload.event_type` equals this.' }),
    workflow_id: uuid.optional().meta({ description: 'Deliver only to this subscription (one of yours), when it matches the event now.' }),
  })
  .refine((f) => f.start_time < f.end_time, { message: 'must be before end_time', path: ['start_time'] })
  .meta({ description: "Which stored events to replay: the inbox's filters (a time range is required), optionally one subscription." });

export const replayCreateSchema = z.strictObject({ filter: filterSchema });

const filterJsonSchema = z.object({
  start_time: isoTime,
  end_time: isoTime,
  status: z.enum(EVENT_STATUSES).optional(),
  event_type: z.string().optional(),
  workflow_id: z.string().optional(),
});

export const replaySchema = z.object({
  replay_id: uuid,
  status: z.enum(REPLAY_STATUSES).meta({ description: '`running` until every matched event is enqueued, then `completed`; `cancelled` after DELETE.' }),
  filter: filterJsonSchema,
  counts: z
    .object({
      matched: z.number().int().meta({ description: 'Events the filter matched so far.' }),
      enqueued: z.number().int().meta({ description: 'Of those, enqueued to be matched and delivered again.' }),
      processed: z.number().int().meta({ description: 'Of the enqueued, matched again against the subscriptions (each event once).' }),
      unmatched: z
        .number()
        .int()
        .meta({ description: "Of the processed, those no subscription matches now (or not the filter's `workflow_id`, or the event is gone): no delivery." }),
      deliveries: z.number().int().meta({ description: 'Deliveries the replay created: one per processed event and subscription it matches now.' }),
      delivered: z.number().int().meta({ description: 'Of the deliveries, those that succeeded.' }),
      failed: z.number().int().meta({ description: 'Of the deliveries, those that ended without success (retries included).' }),
    })
    .meta({
      description:
        'Progress. `processed` follows `enqueued`, and `delivered + failed` follows `deliveries` as the deliveries end (retries included), also after `completed`.',
    }),
  settled: z.boolean().meta({
    description: 'Every webhook the job will cause has ended: it is no longer `running`, `processed = enqueued` and `delivered + failed = deliveries`.',
  }),
  created_at: isoTime,
  finished_at: isoTime.nullable().meta({ description: 'When it completed or was cancelled; null while running.' }),
});

export type ReplayJson = z.output<typeof replaySchema>;

export function toReplayFilter(filter: z.output<typeof filterSchema>): ReplayFilter {
  const out: ReplayFilter = { startTime: filter.start_time, endTime: filter.end_time };
  if (filter.status !== undefined) out.status = filter.status;
  if (filter.event_type !== undefined) out.eventType = filter.event_type;
  if (filter.workflow_id !== undefined) out.workflowId = filter.workflow_id.toLowerCase();
  return out;
}

export function toReplayJson(replay: Replay): ReplayJson {
  const { filter } = replay;
  return {
    replay_id: replay.replayId,
    status: replay.status,
    filter: {
      start_time: toIsoMillis(filter.startTime),
      end_time: toIsoMillis(filter.endTime),
      ...(filter.status !== undefined ? { status: filter.status } : {}),
      ...(filter.eventType !== undefined ? { event_type: filter.eventType } : {}),
      ...(filter.workflowId !== undefined ? { workflow_id: filter.workflowId } : {}),
    },
    counts: { ...replay.counts },
    settled: replaySettled(replay),
    created_at: toIsoMillis(replay.createdAt),
    finished_at: replay.finishedAt === null ? null : toIsoMillis(replay.finishedAt),
  };
}

/** A hash of what the request asks for, to tell a repeat (same key, same filter) from a reuse of the key. */
export function requestHashOf(filter: ReplayFilter): string {
  const canonical = JSON.stringify([filter.startTime, filter.endTime, filter.status ?? null, filter.eventType ?? null, filter.workflowId ?? null]);
  return createHash('sha256').update(canonical).digest('hex');
}

const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,255}$/;

export const idempotencyKeyHeader = {
  name: 'Idempotency-Key',
  description:
    '1–255 printable ASCII characters, scoped per customer: a repeat with the same filter returns the first job (`Idempotent-Replayed: true`) and creates nothing; the same key with another filter is `422 idempotency_key_reused`.',
  schema: z.string().min(1).max(255).regex(IDEMPOTENCY_KEY),
};

export function readIdempotencyKey(header: string | string[] | undefined): string | null {
  if (header === undefined) return null;
  if (typeof header !== 'string' || !IDEMPOTENCY_KEY.test(header)) {
    throw new TriggersError('invalid_request', { detail: 'Idempotency-Key must be 1–255 printable ASCII characters.' });
  }
  return header;
}

export const replayNotFound = () => new TriggersError('not_found', { detail: 'No such replay.' });
