import type { ApiKeyRecord, Customer, CustomerStatus } from '../../domain/customers.ts';
import type { Subscription, SubscriptionBatching, SubscriptionOrdering, SubscriptionRetryPolicy, SubscriptionStatus } from '../../domain/subscriptions.ts';
import type { Selector } from '../../domain/selectors/types.ts';
import type { CustomerPatch, SubscriptionPatch } from '../../ports/metadata-store.ts';
import { isRecord } from '../cursor.ts';
import type { SecretCipher, SecretOwner } from '../../secret-cipher.ts';

/**
 * The metadata tables' rows as the SQL adapters (SQLite, PostgreSQL) read them, and their mapping
 * to the domain. The engines differ only in booleans: SQLite returns 0/1, PostgreSQL true/false.
 * Webhook secrets (`secret`, `previous_secret`) are stored encrypted: every mapping takes the cipher.
 */

export interface CustomerRow {
  customer_id: string;
  name: string;
  email: string;
  status: CustomerStatus;
  rate_limit_per_second: number | null;
  is_test: boolean | number;
  created_at: number;
}

export interface ApiKeyRow {
  key_id: string;
  customer_id: string;
  key_hash: string;
  prefix: string;
  created_at: number;
  revoked_at: number | null;
  expires_at: number | null;
}

/** An API key joined with its customer, the customer's columns prefixed `c_`. */
export interface ApiKeyWithCustomerRow extends ApiKeyRow {
  c_name: string;
  c_email: string;
  c_status: CustomerStatus;
  c_rate_limit_per_second: number | null;
  c_is_test: boolean | number;
  c_created_at: number;
}

export interface SubscriptionRow {
  workflow_id: string;
  customer_id: string;
  event_selector: string;
  webhook_url: string;
  description: string | null;
  status: SubscriptionStatus;
  disabled_reason: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: number | null;
  batching: string | null;
  ordering: SubscriptionOrdering;
  created_at: number;
  updated_at: number;
  managed_by: string | null;
  retry_policy: string | null;
  timeout_ms: number | null;
}

/** Patchable customer fields and their columns (a fixed list: patch keys never reach SQL). */
export const CUSTOMER_PATCH_COLUMNS = {
  name: 'name',
  email: 'email',
  status: 'status',
  rateLimitPerSecond: 'rate_limit_per_second',
} as const satisfies Record<keyof CustomerPatch, string>;

export const SUBSCRIPTION_PATCH_COLUMNS = {
  eventSelector: 'event_selector',
  webhookUrl: 'webhook_url',
  description: 'description',
  status: 'status',
  disabledReason: 'disabled_reason',
  secret: 'secret',
  previousSecret: 'previous_secret',
  previousSecretExpiresAt: 'previous_secret_expires_at',
  batching: 'batching',
  retryPolicy: 'retry_policy',
  timeoutMs: 'timeout_ms',
  ordering: 'ordering',
  updatedAt: 'updated_at',
} as const satisfies Record<keyof SubscriptionPatch, string>;

export function toCustomer(row: CustomerRow): Customer {
  return {
    customerId: row.customer_id,
    name: row.name,
    email: row.email,
    status: row.status,
    rateLimitPerSecond: row.rate_limit_per_second,
    isTest: row.is_test === true || row.is_test === 1,
    createdAt: row.created_at,
  };
}

export function toApiKey(row: ApiKeyRow): ApiKeyRecord {
  return {
    keyId: row.key_id,
    customerId: row.customer_id,
    keyHash: row.key_hash,
    prefix: row.prefix,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    expiresAt: row.expires_at,
  };
}

/** The key and its customer from one joined row. */
export function toApiKeyWithCustomer(row: ApiKeyWithCustomerRow): { key: ApiKeyRecord; customer: Customer } {
  return {
    key: toApiKey(row),
    customer: toCustomer({
      customer_id: row.customer_id,
      name: row.c_name,
      email: row.c_email,
      status: row.c_status,
      rate_limit_per_second: row.c_rate_limit_per_second,
      is_test: row.c_is_test,
      created_at: row.c_created_at,
    }),
  };
}

export function toSubscription(row: SubscriptionRow, cipher: SecretCipher): Subscription {
  const owner = { customerId: row.customer_id, workflowId: row.workflow_id };
  return {
    workflowId: row.workflow_id,
    customerId: row.customer_id,
    eventSelector: JSON.parse(row.event_selector) as Selector,
    webhookUrl: row.webhook_url,
    description: row.description,
    status: row.status,
    disabledReason: row.disabled_reason,
    secret: cipher.decrypt(row.secret, owner),
    previousSecret: row.previous_secret === null ? null : cipher.decrypt(row.previous_secret, owner),
    previousSecretExpiresAt: row.previous_secret_expires_at,
    batching: row.batching === null ? null : (JSON.parse(row.batching) as SubscriptionBatching),
    ordering: row.ordering,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    managedBy: row.managed_by,
    retryPolicy: row.retry_policy === null ? null : (JSON.parse(row.retry_policy) as SubscriptionRetryPolicy),
    timeoutMs: row.timeout_ms === null ? null : Number(row.timeout_ms),
  };
}

/** Converts a patch value of the subscription `owner` to what the column stores. */
export function subscriptionColumnValue(field: keyof SubscriptionPatch, value: unknown, owner: SecretOwner, cipher: SecretCipher): unknown {
  if (field === 'eventSelector') return JSON.stringify(value);
  if (field === 'batching' || field === 'retryPolicy') return value === null || value === undefined ? null : JSON.stringify(value);
  if (field === 'timeoutMs') return value ?? null;
  if (field === 'secret' || field === 'previousSecret') return value === null ? null : cipher.encrypt(value as string, owner);
  return value;
}

/** Where a subscriptions page ended: pages run newest first by `(created_at, workflow_id)`. */
export interface SubscriptionCursor {
  createdAt: number;
  workflowId: string;
}

export function isSubscriptionCursor(value: unknown): value is SubscriptionCursor {
  return (
    isRecord(value) &&
    typeof value.createdAt === 'number' &&
    Number.isSafeInteger(value.createdAt) &&
    typeof value.workflowId === 'string' &&
    value.workflowId.length > 0 &&
    value.workflowId.length <= 64
  );
}

/** The subscriptions table's columns, in the order `subscriptionRowValues` gives them. */
export const SUBSCRIPTION_COLUMNS =
  'workflow_id, customer_id, event_selector, webhook_url, description, status, disabled_reason, secret, previous_secret, previous_secret_expires_at, batching, created_at, updated_at, managed_by, retry_policy, timeout_ms, ordering';

/** `?, ?, ...`: one placeholder per column of `SUBSCRIPTION_COLUMNS`. */
export const SUBSCRIPTION_PLACEHOLDERS = SUBSCRIPTION_COLUMNS.split(',').map(() => '?').join(', ');

/** A subscription's values in the column order of `SUBSCRIPTION_COLUMNS`, for an INSERT. */
export function subscriptionRowValues(s: Subscription, cipher: SecretCipher): unknown[] {
  return [
    s.workflowId,
    s.customerId,
    JSON.stringify(s.eventSelector),
    s.webhookUrl,
    s.description,
    s.status,
    s.disabledReason,
    cipher.encrypt(s.secret, s),
    s.previousSecret === null ? null : cipher.encrypt(s.previousSecret, s),
    s.previousSecretExpiresAt,
    s.batching === null ? null : JSON.stringify(s.batching),
    s.createdAt,
    s.updatedAt,
    s.managedBy ?? null,
    s.retryPolicy ? JSON.stringify(s.retryPolicy) : null,
    s.timeoutMs ?? null,
    s.ordering ?? 'unordered',
  ];
}
