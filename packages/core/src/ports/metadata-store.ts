import type { ApiKeyRecord, Customer, CustomerStatus } from '../domain/customers.ts';
import type { Subscription } from '../domain/subscriptions.ts';

export interface CustomerPatch {
  name?: string;
  email?: string;
  status?: CustomerStatus;
  rateLimitPerSecond?: number | null;
}

export type SubscriptionPatch = Partial<
  Pick<
    Subscription,
    'eventSelector' | 'webhookUrl' | 'description' | 'status' | 'disabledReason' | 'secret' | 'previousSecret' | 'previousSecretExpiresAt' | 'batching' | 'retryPolicy' | 'timeoutMs' | 'ordering'
  >
> & { updatedAt: number };

export interface SubscriptionPage {
  /** Newest first. */
  subscriptions: Subscription[];
  nextCursor: string | null;
}

/**
 * Customers, API keys and subscriptions.
 *
 * Semantics (checked by the conformance suite):
 * - Every subscription read or write is scoped by customer id: another customer's subscription
 *   is absent (null / false), never an error that reveals it exists.
 * - `findApiKeyByHash` returns revoked and expired keys too; the caller decides (so that it can
 *   cache negative answers correctly).
 * - `listSubscriptions` is keyset-paginated newest first with an opaque cursor; a bad cursor
 *   throws `TriggersError('invalid_request')`.
 * - Backend failures throw `DependencyError`.
 */
export interface MetadataStore {
  readonly kind: string;
  createCustomer(customer: Customer): Promise<void>;
  getCustomer(customerId: string): Promise<Customer | null>;
  updateCustomer(customerId: string, patch: CustomerPatch): Promise<Customer | null>;

  createApiKey(key: ApiKeyRecord): Promise<void>;
  findApiKeyByHash(keyHash: string): Promise<{ key: ApiKeyRecord; customer: Customer } | null>;
  /** Returns false when no such key exists (or it was already revoked). */
  revokeApiKey(keyId: string, revokedAt: number): Promise<boolean>;

  createSubscription(subscription: Subscription): Promise<void>;
  getSubscription(customerId: string, workflowId: string): Promise<Subscription | null>;
  listSubscriptions(customerId: string, page: { limit: number; cursor?: string }): Promise<SubscriptionPage>;
  updateSubscription(customerId: string, workflowId: string, patch: SubscriptionPatch): Promise<Subscription | null>;
  deleteSubscription(customerId: string, workflowId: string): Promise<boolean>;
  /** Every active subscription of the customer (what the matcher evaluates). */
  listActiveSubscriptions(customerId: string): Promise<Subscription[]>;
  /**
   * A number that changes (grows) in the same write as any create, update or delete of one of the
   * customer's subscriptions: the matcher's cache compares it to know it is still current.
   */
  getSubscriptionsVersion(customerId: string): Promise<number>;

  ping(): Promise<void>;
  close(): Promise<void>;
}
