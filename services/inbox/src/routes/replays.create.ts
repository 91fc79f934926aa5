import { defineRoute, requestLogger } from '@triggers/core/http';
import { TriggersError, uuidv4 } from '@triggers/core/domain';
import type { InboxDeps } from '../deps.ts';
import { idempotencyKeyHeader, readIdempotencyKey, replayCreateSchema, replaySchema, requestHashOf, toReplayFilter, toReplayJson } from '../replays/replay-schemas.ts';

export function makeReplayCreateRoute(deps: InboxDeps) {
  return defineRoute({
    method: 'post',
    path: '/api/v1/replays',
    operationId: 'createReplay',
    summary: 'Replay every stored event a filter matches (bulk replay)',
    description:
      'Creates a durable job that matches each event again and delivers it to what matches now, as a single replay does (new `webhook-id`s). It survives restarts, is paced (`TRIGGERS_REPLAY_EVENTS_PER_SECOND`, default 200 events/s per job) so live traffic keeps flowing, and is cancelled with DELETE. Follow it with GET.',
    tags: ['Replays'],
    auth: 'api_key',
    body: replayCreateSchema,
    headers: [idempotencyKeyHeader],
    responses: {
      202: { description: 'The job is created and running', schema: replaySchema, headers: [{ name: 'Idempotent-Replayed', description: '`true` when this answers a repeat of an earlier request (same Idempotency-Key and filter).' }] },
    },
    errors: ['invalid_json', 'invalid_request', 'unauthorized', 'idempotency_key_reused', 'payload_too_large', 'unsupported_media_type', 'unavailable'],
    handler: async ({ req, customer, body }) => {
      const idempotencyKey = readIdempotencyKey(req.headers['idempotency-key']);
      const filter = toReplayFilter(body.filter);
      if (filter.workflowId !== undefined && !(await deps.metadataStore.getSubscription(customer.customerId, filter.workflowId))) {
        throw new TriggersError('invalid_request', { detail: 'filter.workflow_id: no such subscription.' });
      }
      const requestHash = requestHashOf(filter);
      const { replay, created } = await deps.replayStore.createReplay({
        replayId: uuidv4(),
        customerId: customer.customerId,
        filter,
        idempotencyKey,
        requestHash: idempotencyKey === null ? null : requestHash,
        createdAt: deps.clock.now(),
      });
      if (!created && replay.requestHash !== requestHash) {
        throw new TriggersError('idempotency_key_reused', { detail: 'This Idempotency-Key was used with another filter.' });
      }
      if (created) requestLogger(req, deps.log).info({ customerId: customer.customerId, replayId: replay.replayId }, 'Created bulk replay');
      return { status: 202, body: toReplayJson(replay), headers: created ? undefined : { 'Idempotent-Replayed': 'true' } };
    },
  });
}
