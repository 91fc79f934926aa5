import type { Logger } from '@triggers/core/runtime';
import { coerceError } from '@triggers/core/domain';
import type { Scheduler } from '../scheduler.ts';
import { isConflict, isNotFound, type KubeClient } from '../kube/kube-client.ts';
import { decideLease, leaseSpecFor, releasedLeaseSpec, type Lease } from './lease-decision.ts';

/**
 * The lease loop: every `retryMs` it reads the Lease and, per `decideLease`, creates, renews or
 * takes it over with an optimistic-concurrency write (a 409 means another replica wrote first: it
 * is not ours this round). A leader that cannot renew within `renewDeadlineMs` stops leading
 * before the Lease can expire for the others; `stop()` releases a held Lease so another replica
 * takes over without waiting for it to expire. Only leaders reconcile or write anything else.
 */
export interface LeaderElectorOptions {
  kube: KubeClient;
  scheduler: Scheduler;
  log: Logger;
  namespace: string;
  name: string;
  identity: string;
  durationMs: number;
  /** Default durationMs / 5 (at least 100 ms). */
  retryMs?: number;
  /** Default durationMs * 2/3. */
  renewDeadlineMs?: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

export interface LeaseStore {
  get(): Promise<Lease | null>;
  create(lease: Lease): Promise<Lease>;
  update(lease: Lease): Promise<Lease>;
}

/** The Lease through the API (`coordination.k8s.io/v1`). */
export function apiLeaseStore(kube: KubeClient, namespace: string, name: string): LeaseStore {
  const collection = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
  const item = `${collection}/${encodeURIComponent(name)}`;
  return {
    async get() {
      try {
        return await kube.request<Lease>('GET', item);
      } catch (error) {
        if (isNotFound(error)) return null;
        throw error;
      }
    },
    create: (lease) => kube.request<Lease>('POST', collection, { body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease } }),
    update: (lease) => kube.request<Lease>('PUT', item, { body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease } }),
  };
}

export class LeaderElector {
  private leading = false;
  private lastRenewedAt = 0;
  private observed: { resourceVersion: string | undefined; at: number } | null = null;
  private stopped = false;
  private readonly stopSignal = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly retryMs: number;
  private readonly renewDeadlineMs: number;

  constructor(
    private readonly options: LeaderElectorOptions,
    private readonly store: LeaseStore = apiLeaseStore(options.kube, options.namespace, options.name),
  ) {
    this.retryMs = options.retryMs ?? Math.max(100, Math.floor(options.durationMs / 5));
    this.renewDeadlineMs = options.renewDeadlineMs ?? Math.floor((options.durationMs * 2) / 3);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.loop ??= (async () => {
      while (!this.stopped) {
        await this.tick();
        await this.options.scheduler.sleep(this.retryMs, this.stopSignal.signal);
      }
    })();
  }

  /** One round: read, decide, write. Exposed for the unit tests. */
  async tick(): Promise<void> {
    const { scheduler, identity, durationMs, log } = this.options;
    try {
      const lease = await this.store.get();
      const now = scheduler.now();
      const version = lease?.metadata.resourceVersion;
      if (!this.observed || this.observed.resourceVersion !== version) this.observed = { resourceVersion: version, at: now };
      const decision = decideLease({ lease, observedAt: this.observed.at, now, identity });
      if (decision === 'wait') {
        if (this.leading) this.setLeading(false, `the Lease is held by ${lease?.spec?.holderIdentity}`);
        return;
      }
      const spec = leaseSpecFor(decision, lease?.spec, identity, durationMs, now);
      const written =
        decision === 'create'
          ? await this.store.create({ metadata: { name: this.options.name, namespace: this.options.namespace }, spec })
          : await this.store.update({ ...lease!, spec });
      this.observed = { resourceVersion: written.metadata.resourceVersion, at: now };
      this.lastRenewedAt = now;
      if (!this.leading) this.setLeading(true, decision);
    } catch (error) {
      // A conflict (409) or an existing Lease on create: another replica wrote first.
      if (!isConflict(error) && !(error instanceof Error && /already exists/i.test(error.message))) {
        log.warn({ err: coerceError(error).message }, 'Failed to read or write the leader Lease');
      }
      if (this.leading && this.options.scheduler.now() - this.lastRenewedAt >= this.renewDeadlineMs) {
        this.setLeading(false, 'could not renew the Lease in time');
      }
    }
  }

  /** Stops the loop; a leader releases the Lease so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopSignal.abort();
    await this.loop;
    if (!this.leading) return;
    this.setLeading(false, 'stopping');
    try {
      const current = await this.store.get();
      if (current && current.spec?.holderIdentity === this.options.identity) {
        await this.store.update({ ...current, spec: releasedLeaseSpec(current.spec, this.options.scheduler.now()) });
        this.options.log.info({ lease: this.options.name }, 'Released the leader Lease');
      }
    } catch (error) {
      this.options.log.warn({ err: coerceError(error).message }, 'Failed to release the leader Lease; it expires on its own');
    }
  }

  private setLeading(leading: boolean, why: string): void {
    this.leading = leading;
    this.options.log.info({ identity: this.options.identity, lease: `${this.options.namespace}/${this.options.name}`, why }, leading ? 'Started leading' : 'Stopped leading');
    if (leading) this.options.onStartedLeading();
    else this.options.onStoppedLeading();
  }
}
