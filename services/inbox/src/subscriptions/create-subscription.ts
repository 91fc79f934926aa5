import { uuidv4, generateWebhookSecret, type Selector, type Subscription, type SubscriptionOrdering } from '@triggers/core/domain';
import type { InboxDeps } from '../deps.ts';
import { batchingFromJson, retryPolicyFromJson, type BatchJson, type RetryPolicyJson } from '../subscription-json.ts';
import { requireAllowedWebhookUrl } from './webhook-url.ts';

export interface NewSubscriptionFields {
  /** Already compiled (see `parseSubscriptionBody`). */
  event_selector: Selector;
  webhook_url: string;
  description?: string | null;
  batch?: BatchJson | null;
  retry?: RetryPolicyJson | null;
  timeout_ms?: number | null;
  ordering?: SubscriptionOrdering;
}

/** Creates an active subscription with a new signing secret: the customer route and the admin route both use this. */
export async function createSubscription(deps: InboxDeps, customerId: string, fields: NewSubscriptionFields): Promise<Subscription> {
  const webhookUrl = requireAllowedWebhookUrl(fields.webhook_url, deps.settings.ssrfAllow);
  const now = deps.clock.now();
  const subscription: Subscription = {
    workflowId: uuidv4(),
    customerId,
    eventSelector: fields.event_selector,
    webhookUrl,
    description: fields.description ?? null,
    status: 'active',
    disabledReason: null,
    secret: generateWebhookSecret(),
    previousSecret: null,
    previousSecretExpiresAt: null,
    batching: batchingFromJson(fields.batch),
    retryPolicy: retryPolicyFromJson(fields.retry),
    timeoutMs: fields.timeout_ms ?? null,
    ordering: fields.ordering ?? 'unordered',
    createdAt: now,
    updatedAt: now,
  };
  await deps.metadataStore.createSubscription(subscription);
  deps.log.info({ customerId, workflowId: subscription.workflowId }, 'Created subscription');
  return subscription;
}
