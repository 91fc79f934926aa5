import { defineRoute, requestLogger } from '@triggers/core/http';
import type { InboxDeps } from '../deps.ts';
import { testCustomerCreateSchema, testCustomerSchema } from '../schemas.ts';
import { createTestCustomer } from '../admin/customers.ts';

export function makeTestCustomerCreateRoute(deps: InboxDeps) {
  return defineRoute({
    method: 'post',
    path: '/admin/test-customer',
    operationId: 'createTestCustomer',
    summary: 'Create a test customer and its first API key',
    description: 'Test customers get `sk_test_` keys. The key is shown only in this response; only its hash is stored.',
    tags: ['Admin'],
    auth: 'admin',
    body: testCustomerCreateSchema,
    responses: { 201: { description: 'Created', schema: testCustomerSchema } },
    errors: ['invalid_json', 'invalid_request', 'unauthorized', 'payload_too_large', 'unsupported_media_type', 'unavailable'],
    handler: async ({ req, body }) => {
      const { customer, record, apiKey } = await createTestCustomer({ ...deps, log: requestLogger(req, deps.log) }, body);
      return {
        status: 201,
        body: { customer_id: customer.customerId, api_key: apiKey, key_id: record.keyId, name: customer.name, email: customer.email, status: 'active' },
      };
    },
  });
}
