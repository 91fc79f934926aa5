import type { Selector } from './selectors/types.ts';

export const SUBSCRIPTION_STATUSES = ['active', 'disabled'] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

export interface SubscriptionBatching {
  maxEvents: number;
  windowMs: number;
}

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
  createdAt: number;
  updatedAt: number;
}
