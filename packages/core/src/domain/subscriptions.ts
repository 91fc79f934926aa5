import type { Selector } from './selectors/types.ts';

export const SUBSCRIPTION_STATUSES = ['active', 'disabled'] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

/**
 * How a subscription's deliveries go out: `unordered` (the default) in parallel, in any order; `fifo`
 * one at a time in event order (UUIDv7 order of acceptance): the first pending delivery (the head)
 * is the only one sent, a retrying head holds the ones behind it, and when it ends (succeeded, or
 * failed after its last attempt) the next one goes.
 */
export const SUBSCRIPTION_ORDERINGS = ['unordered', 'fifo'] as const;
export type SubscriptionOrdering = (typeof SUBSCRIPTION_ORDERINGS)[number];

export interface SubscriptionBatching {
  maxEvents: number;
  windowMs: number;
}

/**
 * A subscription's own retry schedule; each field left out comes from the settings
 * (`TRIGGERS_MAX_ATTEMPTS`, `TRIGGERS_RETRY_BASE_MS`, `TRIGGERS_RETRY_MAX_DELAY_MS`).
 * `scheduleMs` and `baseMs` exclude each other.
 */
export interface SubscriptionRetryPolicy {
  /** Attempts in all, the first one included. */
  maxAttempts?: number;
  /** The delay after attempt 1, 2, ...; the last entry repeats. */
  scheduleMs?: number[];
  /** The exponential schedule's first delay: `min(base * 2^(attempt-1), maxDelayMs)`. */
  baseMs?: number;
  maxDelayMs?: number;
}

/** The API's limits on a subscription's retry policy and timeout (documented in README and OpenAPI). */
export const RETRY_POLICY_LIMITS = {
  maxAttempts: { min: 1, max: 20 },
  delayMs: { min: 100, max: 24 * 3600_000 },
  scheduleLength: { min: 1, max: 19 },
  timeoutMs: { min: 1000, max: 60_000 },
} as const;

export interface Subscription {
  workflowId: string;
  customerId: string;
  eventSelector: Selector;
  webhookUrl: string;
  description: string | null;
  status: SubscriptionStatus;
  disabledReason: string | null;
  /** `whsec_<base64>`; signs every delivery. */
  secret: string;
  /** The secret before the last rotation; keeps signing too until `previousSecretExpiresAt`. */
  previousSecret: string | null;
  previousSecretExpiresAt: number | null;
  batching: SubscriptionBatching | null;
  /** Its own retry schedule; absent or null: the settings' one. */
  retryPolicy?: SubscriptionRetryPolicy | null;
  /** How long one webhook request may take (ms); absent or null: `TRIGGERS_WEBHOOK_TIMEOUT_MS`. */
  timeoutMs?: number | null;
  /** Absent: `unordered`. */
  ordering?: SubscriptionOrdering;
  createdAt: number;
  updatedAt: number;
  /**
   * The Kubernetes resource that owns it (`triggers.dev/v1alpha1/Subscription/<namespace>/<name>`),
   * set once by the controller when it creates the subscription; absent or null: made through the
   * REST API. The REST API answers 409 to a change of an owned subscription (see MANAGED_BY_PREFIX).
   */
  managedBy?: string | null;
}

/** How `managedBy` of a subscription owned by a Subscription custom resource starts. */
export const MANAGED_BY_PREFIX = 'triggers.dev/v1alpha1/Subscription/';

/** How long the secret replaced by a rotation keeps signing deliveries (API.md: 24 h). */
export const PREVIOUS_SECRET_TTL_MS = 24 * 3600_000;

/**
 * The fields a secret rotation changes: a new current secret; the one it replaces keeps signing
 * until `now + 24 h`, so receivers can switch over without missing a delivery. A secret replaced
 * earlier stops signing at once. The REST route and the controller (Secret rotation) both use it.
 */
export function secretRotation(
  current: Pick<Subscription, 'secret'>,
  newSecret: string,
  now: number,
): Pick<Subscription, 'secret' | 'previousSecret' | 'previousSecretExpiresAt' | 'updatedAt'> {
  return { secret: newSecret, previousSecret: current.secret, previousSecretExpiresAt: now + PREVIOUS_SECRET_TTL_MS, updatedAt: now };
}
