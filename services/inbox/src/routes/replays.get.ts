import { defineRoute } from '@triggers/core/http';
import type { InboxDeps } from '../deps.ts';
import { idFromPath } from '../path-ids.ts';
import { replayIdParams, replayNotFound, replaySchema, toReplayJson } from '../replays/replay-schemas.ts';

export function makeReplayGetRoute(deps: InboxDeps) {
  return defineRoute({
    method: 'get',
    path: '/api/v1/replays/:replay_id',
    operationId: 'getReplay',
    summary: 'Read a bulk replay and its progress',
    description: "Another customer's replay is 404, exactly like an unknown id.",
    tags: ['Replays'],
    auth: 'api_key',
    params: replayIdParams,
    responses: { 200: { description: 'The replay and its counts', schema: replaySchema } },
    errors: ['unauthorized', 'not_found', 'unavailable'],
    handler: async ({ customer, params }) => {
      const replay = await deps.replayStore.getReplay(customer.customerId, idFromPath(params.replay_id, replayNotFound));
      if (!replay) throw replayNotFound();
      return { status: 200, body: toReplayJson(replay) };
    },
  });
}
