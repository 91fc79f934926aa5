export interface RateLimitDecision {
  allowed: boolean;
  /** The bucket's capacity (one second's worth of the rate). */
  limit: number;
  /** Tokens left after this decision. */
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** When refused: whole seconds until `cost` tokens will be available (at least 1). */
  retryAfterSeconds: number;
}

/**
 * A token bucket per customer: capacity = `ratePerSecond` (a burst of one second's worth),
 * refilled continuously at `ratePerSecond`. `consume` takes `cost` tokens atomically or none.
 * A changed `ratePerSecond` applies from the next call.
 */
export interface RateLimiter {
  readonly kind: string;
  consume(customerId: string, cost: number, ratePerSecond: number): Promise<RateLimitDecision>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
