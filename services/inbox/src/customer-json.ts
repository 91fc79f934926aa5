import type { z } from 'zod';
import { toIsoMillis, type ApiKeyRecord, type Customer } from '@triggers/core/domain';
import type { apiKeySchema, customerSchema } from './schemas.ts';

export function toCustomerJson(customer: Customer): z.output<typeof customerSchema> {
  return {
    customer_id: customer.customerId,
    name: customer.name,
    email: customer.email,
    status: customer.status,
    rate_limit_per_second: customer.rateLimitPerSecond,
    created_at: toIsoMillis(customer.createdAt),
  };
}

/** The one answer that shows a key in full: right after it was made. */
export function toNewApiKeyJson(record: ApiKeyRecord, apiKey: string): z.output<typeof apiKeySchema> {
  return {
    api_key: apiKey,
    key_id: record.keyId,
    customer_id: record.customerId,
    prefix: record.prefix,
    created_at: toIsoMillis(record.createdAt),
    expires_at: record.expiresAt === null ? null : toIsoMillis(record.expiresAt),
  };
}
