import { defineRoute, requestLogger } from '@triggers/core/http';
import type { InboxDeps } from '../deps.ts';
import { idFromPath } from '../path-ids.ts';
import { replayIdParams, replayNotFound } from '../replays/replay-schemas.ts';

export function makeReplayCancelRoute(deps: InboxDeps) {
  return defineRoute({
    method: 'delete',
    path: '/api/v1/replays/:replay_id',
    operationId: 'cancelReplay',
    summary: 'Cancel a bulk replay',
    description:
      'A running replay stops at its next page (`status: cancelled`); what it enqueued before is still delivered. Cancelling a finished replay changes nothing (also 204).',
    tags: ['Replays'],
    auth: 'api_key',
    params: replayIdParams,
    responses: { 204: { description: 'Cancelled (or already finished)' } },
    errors: ['unauthorized', 'not_found', 'unavailable'],
    handler: async ({ req, customer, params }) => {
      const replayId = idFromPath(params.replay_id, replayNotFound);
      const replay = await deps.replayStore.cancelReplay(customer.customerId, replayId, deps.clock.now());
      if (!replay) throw replayNotFound();
      requestLogger(req, deps.log).info({ customerId: customer.customerId, replayId }, 'Cancelled bulk replay');
      return { status: 204 };
    },
  });
}
