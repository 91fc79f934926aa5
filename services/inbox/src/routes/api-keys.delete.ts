import { defineRoute, requestLogger } from '@triggers/core/http';
import type { InboxDeps } from '../deps.ts';
import { keyIdParams } from '../schemas.ts';
import { apiKeyNotFound, idFromPath } from '../path-ids.ts';

export function makeApiKeyDeleteRoute(deps: InboxDeps) {
  return defineRoute({
    method: 'delete',
    path: '/admin/api-keys/:key_id',
    operationId: 'revokeApiKey',
    summary: 'Revoke an API key',
    description: 'Revoked at once; every replica stops accepting it within its key cache time (at most 5 s).',
    tags: ['Admin'],
    auth: 'admin',
    params: keyIdParams,
    responses: { 204: { description: 'Revoked' } },
    errors: ['unauthorized', 'not_found', 'unavailable'],
    handler: async ({ req, params }) => {
      const keyId = idFromPath(params.key_id, apiKeyNotFound);
      if (!(await deps.metadataStore.revokeApiKey(keyId, deps.clock.now()))) throw apiKeyNotFound();
      requestLogger(req, deps.log).info({ keyId }, 'Revoked API key');
      return { status: 204 };
    },
  });
}
