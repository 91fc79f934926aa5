import type { Subscription } from '@triggers/core/domain/subscriptions.ts';
import type { SubscriptionPatch } from '@triggers/core/ports/metadata-store.ts';

/** How long the secret replaced by a rotation keeps signing deliveries (API.md: 24 h). */
export const PREVIOUS_SECRET_TTL_MS = 24 * 3600_000;

/**
 * A new current secret; the one it replaces keeps signing until `now + 24 h`, so receivers can
 * switch over without missing a delivery. A secret replaced earlier stops signing at once.
 */
export function secretRotationPatch(current: Subscription, newSecret: string, now: number): SubscriptionPatch {
  return {
    secret: newSecret,
    previousSecret: current.secret,
    previousSecretExpiresAt: now + PREVIOUS_SECRET_TTL_MS,
    updatedAt: now,
  };
}
