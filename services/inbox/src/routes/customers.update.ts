import { defineRoute, requestLogger } from '@triggers/core/http';
import type { CustomerPatch } from '@triggers/core/ports';
import type { InboxDeps } from '../deps.ts';
import { customerIdParams, customerSchema, customerUpdateSchema } from '../schemas.ts';
import { toCustomerJson } from '../customer-json.ts';
import { customerNotFound, idFromPath } from '../path-ids.ts';

export function makeCustomerUpdateRoute(deps: InboxDeps) {
  return defineRoute({
    method: 'patch',
    path: '/admin/customers/:customer_id',
    operationId: 'updateCustomer',
    summary: "Change a customer's rate limit or status",
    description: 'Applies within the API key cache time (1 s by default): the rate limit to the next requests, `disabled` to every key of the customer.',
    tags: ['Admin'],
    auth: 'admin',
    params: customerIdParams,
    body: customerUpdateSchema,
    responses: { 200: { description: 'The updated customer', schema: customerSchema } },
    errors: ['invalid_json', 'invalid_request', 'unauthorized', 'not_found', 'payload_too_large', 'unsupported_media_type', 'unavailable'],
    handler: async ({ req, params, body }) => {
      const customerId = idFromPath(params.customer_id, customerNotFound);
      const patch: CustomerPatch = {};
      if (body.rate_limit_per_second !== undefined) patch.rateLimitPerSecond = body.rate_limit_per_second;
      if (body.status !== undefined) patch.status = body.status;
      const updated = await deps.metadataStore.updateCustomer(customerId, patch);
      if (!updated) throw customerNotFound();
      requestLogger(req, deps.log).info({ customerId, ...patch }, 'Updated customer');
      return { status: 200, body: toCustomerJson(updated) };
    },
  });
}
