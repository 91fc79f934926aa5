/** What an ingest request answered, kept so a repeat gets the same answer. */
export interface StoredResponse {
  status: number;
  body: unknown;
}

export type IdempotencyClaim =
  | { state: 'acquired' }
  | { state: 'in_progress' }
  | { state: 'mismatch' }
  | { state: 'completed'; response: StoredResponse };

/**
 * Idempotency keys, scoped per customer.
 *
 * Semantics (checked by the conformance suite):
 * - `claim` is atomic: of any number of concurrent claims of one (customer, key), exactly one
 *   gets `acquired`; the others see `in_progress` (same request hash) or `mismatch` (other hash).
 * - A claim that is neither completed nor released expires after `leaseMs` (its holder crashed),
 *   after which a new claim can acquire it.
 * - After `complete`, a claim with the same hash gets `completed` with the stored response and a
 *   claim with another hash gets `mismatch`, until `ttlMs` has passed.
 * - `release` forgets an in-progress claim so the client may retry.
 * - Keys of different customers never interact.
 */
export interface IdempotencyStore {
  readonly kind: string;
  claim(customerId: string, key: string, requestHash: string, options: { leaseMs: number; ttlMs: number }): Promise<IdempotencyClaim>;
  complete(customerId: string, key: string, response: StoredResponse, ttlMs: number): Promise<void>;
  release(customerId: string, key: string): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
