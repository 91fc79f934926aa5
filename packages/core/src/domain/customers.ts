export const CUSTOMER_STATUSES = ['active', 'disabled'] as const;
export type CustomerStatus = (typeof CUSTOMER_STATUSES)[number];

export interface Customer {
  customerId: string;
  name: string;
  email: string;
  status: CustomerStatus;
  /** Null means the deployment default (`TRIGGERS_RATE_LIMIT_PER_SECOND`). */
  rateLimitPerSecond: number | null;
  /** Test customers get `sk_test_` keys. */
  isTest: boolean;
  createdAt: number;
}

export interface ApiKeyRecord {
  keyId: string;
  customerId: string;
  /** Lower-case hex SHA-256 of the whole key; the key itself is never stored. */
  keyHash: string;
  /** The first characters of the key (`sk_live_ab12`), safe to show to identify it. */
  prefix: string;
  createdAt: number;
  revokedAt: number | null;
  expiresAt: number | null;
}
