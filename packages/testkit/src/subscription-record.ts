import { generateWebhookSecret, type Subscription } from '@triggers/core/domain';

/**
 * A subscription as the metadata store keeps it, for tests that write or compare one directly:
 * active, a fresh signing secret, no previous secret, no batching, unordered, created now. The caller names
 * whose it is, what it selects and where it posts, and any field it wants otherwise.
 */
export function subscriptionRecord(fields: Pick<Subscription, 'workflowId' | 'customerId' | 'eventSelector' | 'webhookUrl'> & Partial<Subscription>): Subscription {
  const now = Date.now();
  return {
    description: null,
    status: 'active',
    disabledReason: null,
    secret: generateWebhookSecret(),
    previousSecret: null,
    previousSecretExpiresAt: null,
    batching: null,
    retryPolicy: null,
    timeoutMs: null,
    ordering: 'unordered',
    createdAt: now,
    updatedAt: now,
    ...fields,
  };
}
