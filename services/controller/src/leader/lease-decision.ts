/**
 * Leader election on a `coordination.k8s.io/v1` Lease, the decision part (pure; the loop that reads
 * and writes the Lease is leader-elector.ts). As in client-go, expiry is judged by this replica's
 * own clock from when it last saw the Lease change, never from the `renewTime` written by another
 * machine, so clock skew between replicas cannot make two of them leader.
 */

export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number | null;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number | null;
}

export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

/**
 * - `create`: there is no Lease yet; create it holding it.
 * - `renew`: this replica holds it; write a new renewTime.
 * - `acquire`: nobody holds it (released, or expired by our clock); take it over.
 * - `wait`: another replica holds it and it has not expired.
 */
export type LeaseDecision = 'create' | 'renew' | 'acquire' | 'wait';

export interface LeaseObservation {
  /** The Lease as last read; null when it does not exist. */
  lease: Lease | null;
  /** This replica's clock when it first saw the Lease's current content (resourceVersion). */
  observedAt: number;
  now: number;
  identity: string;
}

export function decideLease({ lease, observedAt, now, identity }: LeaseObservation): LeaseDecision {
  if (lease === null) return 'create';
  const holder = lease.spec?.holderIdentity ?? '';
  if (holder === identity) return 'renew';
  if (holder === '') return 'acquire';
  const durationMs = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
  return observedAt + durationMs <= now ? 'acquire' : 'wait';
}

/** MicroTime as the API server wants it: RFC 3339 with 6 fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** The Lease spec this replica writes for a decision that makes it the holder. */
export function leaseSpecFor(decision: 'create' | 'renew' | 'acquire', current: LeaseSpec | undefined, identity: string, durationMs: number, now: number): LeaseSpec {
  const renewTime = microTime(now);
  const durationSeconds = Math.max(1, Math.ceil(durationMs / 1000));
  if (decision === 'renew') {
    return { ...current, holderIdentity: identity, leaseDurationSeconds: durationSeconds, renewTime };
  }
  return {
    holderIdentity: identity,
    leaseDurationSeconds: durationSeconds,
    acquireTime: renewTime,
    renewTime,
    leaseTransitions: decision === 'create' ? 0 : (current?.leaseTransitions ?? 0) + 1,
  };
}

/** What a holder writes when it stops: nobody holds it, so another replica takes over at once. */
export function releasedLeaseSpec(current: LeaseSpec | undefined, now: number): LeaseSpec {
  return { ...current, holderIdentity: null, leaseDurationSeconds: 1, renewTime: microTime(now), acquireTime: null };
}
