import { uuidv4, apiKeyPrefix, generateApiKey, hashApiKey, type ApiKeyRecord, type Customer } from '@triggers/core/domain';
import type { InboxDeps } from '../deps.ts';

/**
 * A new key for a customer (`sk_test_` for test customers). Only its hash is stored: the key
 * itself exists only in the returned value, for the one response that shows it.
 */
export async function issueApiKey(deps: InboxDeps, customer: Customer, expiresAt: number | null): Promise<{ record: ApiKeyRecord; apiKey: string }> {
  const apiKey = generateApiKey(customer.isTest);
  const record: ApiKeyRecord = {
    keyId: uuidv4(),
    customerId: customer.customerId,
    keyHash: hashApiKey(apiKey),
    prefix: apiKeyPrefix(apiKey),
    createdAt: deps.clock.now(),
    revokedAt: null,
    expiresAt,
  };
  await deps.metadataStore.createApiKey(record);
  deps.log.info({ customerId: customer.customerId, keyId: record.keyId }, 'Issued API key');
  return { record, apiKey };
}

/** A test customer (active, default rate limit) and its first key. */
export async function createTestCustomer(
  deps: InboxDeps,
  details: { name: string; email: string },
): Promise<{ customer: Customer; record: ApiKeyRecord; apiKey: string }> {
  const customer: Customer = {
    customerId: uuidv4(),
    name: details.name,
    email: details.email,
    status: 'active',
    rateLimitPerSecond: null,
    isTest: true,
    createdAt: deps.clock.now(),
  };
  await deps.metadataStore.createCustomer(customer);
  deps.log.info({ customerId: customer.customerId }, 'Created test customer');
  return { customer, ...(await issueApiKey(deps, customer, null)) };
}
