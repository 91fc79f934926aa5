import { TriggersError } from '@triggers/core/domain';
import { defineRoute, requestLogger } from '@triggers/core/http';
import type { InboxDeps } from '../deps.ts';
import { apiKeyCreateSchema, apiKeySchema, customerIdParams } from '../schemas.ts';
import { toNewApiKeyJson } from '../customer-json.ts';
import { customerNotFound, idFromPath } from '../path-ids.ts';
import { issueApiKey } from '../admin/customers.ts';
import { readOptionalBody } from '../admin/optional-body.ts';

export function makeApiKeyCreateRoute(deps: InboxDeps) {
  return defineRoute({
    method: 'post',
    path: '/admin/customers/:customer_id/api-keys',
    operationId: 'createApiKey',
    summary: 'Issue another API key for a customer',
    description:
      'Optional JSON body `{"expires_at": "<RFC 3339, in the future>"}`; without it the key never expires. The key is shown only in this response; only its hash is stored.',
    tags: ['Admin'],
    auth: 'admin',
    params: customerIdParams,
    responses: { 201: { description: 'Issued', schema: apiKeySchema } },
    errors: ['invalid_json', 'invalid_request', 'unauthorized', 'not_found', 'payload_too_large', 'unsupported_media_type', 'unavailable'],
    handler: async ({ params, req }) => {
      const customerId = idFromPath(params.customer_id, customerNotFound);
      const body = await readOptionalBody(req, apiKeyCreateSchema, deps.settings.maxBodyBytes);
      const expiresAt = body.expires_at ?? null;
      if (expiresAt !== null && expiresAt <= deps.clock.now()) {
        throw new TriggersError('invalid_request', { detail: 'expires_at: must be in the future' });
      }
      const customer = await deps.metadataStore.getCustomer(customerId);
      if (!customer) throw customerNotFound();
      const { record, apiKey } = await issueApiKey({ ...deps, log: requestLogger(req, deps.log) }, customer, expiresAt);
      return { status: 201, body: toNewApiKeyJson(record, apiKey) };
    },
  });
}
