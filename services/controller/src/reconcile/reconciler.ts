import { type SsrfAllow, type Subscription, generateWebhookSecret, isWebhookSecret, DependencyError, coerceError } from '@triggers/core/domain';
import type { Logger } from '@triggers/core/runtime';
import type { MetadataStore } from '@triggers/core/ports';
import { KubeError, isConflict, isNotFound, type KubeClient } from '../kube/kube-client.ts';
import type { Scheduler } from '../scheduler.ts';
import { FINALIZER, managedByOf, resourcePath, type SubscriptionResource } from '../subscription-resource.ts';
import { desiredSubscription } from './desired-subscription.ts';
import { planSync } from './plan-sync.ts';
import { buildStatus, statusChanged, type FailureReason, type ReconcileOutcome } from './status.ts';

/**
 * `reconcile(namespace/name)`: level-triggered. It reads the resource's current state (never the
 * event that woke it), converges the store to it and writes what it found into `.status`. Running
 * it twice, or after a restart, or after missed events, gives the same result.
 *
 * The subscription's id is the resource's `metadata.uid` (a UUID, stable for the resource's life,
 * new for a resource re-created under the same name), so no lookup table is needed.
 */
export type ReconcileResult =
  | { result: 'synced' }
  | { result: 'deleted' }
  | { result: 'gone' }
  /** Waits for a change of the spec: retrying cannot help. */
  | { result: 'invalid'; reason: FailureReason; message: string }
  /** Retry with backoff. */
  | { result: 'retry'; reason: FailureReason; message: string };

export interface ReconcilerDeps {
  kube: KubeClient;
  metadataStore: MetadataStore;
  scheduler: Scheduler;
  log: Logger;
  ssrfAllow: SsrfAllow;
  /** The latest copy the informer holds (undefined: not there). */
  cached(key: string): SubscriptionResource | undefined;
  /** Reports a failure as a Kubernetes Event on the resource. */
  recordFailure(resource: SubscriptionResource, reason: string, message: string): Promise<void>;
}

const STATUS_WRITE_ATTEMPTS = 4;

export class Reconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  async reconcile(key: string): Promise<ReconcileResult> {
    let resource = this.deps.cached(key);
    if (!resource) return { result: 'gone' }; // deleted: the finalizer already removed its subscription

    if (resource.metadata.deletionTimestamp) return this.finalize(resource);

    if (!resource.metadata.finalizers?.includes(FINALIZER)) {
      const patched = await this.patchFinalizers(resource, [...(resource.metadata.finalizers ?? []), FINALIZER]);
      if (!patched) return { result: 'gone' };
      resource = patched;
    }

    const outcome = await this.sync(resource);
    const before = resource.status?.conditions?.find((c) => c.type === 'Synced');
    await this.writeStatus(resource, outcome);
    if (outcome.kind === 'synced') return { result: 'synced' };
    const permanent = outcome.reason === 'InvalidSelector' || outcome.reason === 'InvalidWebhookUrl' || outcome.reason === 'InvalidSecret';
    // A spec that is still wrong in the same way is no new failure: each resync would add an Event.
    const alreadyReported = permanent && before?.reason === outcome.reason && before.message === outcome.message && before.observedGeneration === resource.metadata.generation;
    if (!alreadyReported) await this.deps.recordFailure(resource, outcome.reason, outcome.message);
    return { result: permanent ? 'invalid' : 'retry', reason: outcome.reason, message: outcome.message };
  }

  /** Converges the store to the spec; never throws for an expected failure (it becomes the outcome). */
  private async sync(resource: SubscriptionResource): Promise<ReconcileOutcome> {
    const { metadataStore, scheduler } = this.deps;
    const { namespace, name, uid } = resource.metadata;
    const { customerId } = resource.spec;
    let existing: Subscription | null = null;
    try {
      existing = await metadataStore.getSubscription(customerId, uid);
      const checked = desiredSubscription(resource.spec, this.deps.ssrfAllow);
      if (!checked.ok) return { kind: 'failed', reason: checked.reason, message: checked.message, subscription: existing };

      if (!existing && !(await metadataStore.getCustomer(customerId))) {
        return { kind: 'failed', reason: 'CustomerNotFound', message: `No customer ${customerId} in Triggers; create it first (POST /admin/test-customer or your provisioning)`, subscription: null };
      }

      const secret = await this.readSecret(resource);
      if ('reason' in secret) return { kind: 'failed', ...secret, subscription: existing };

      const plan = planSync({
        desired: checked.desired,
        existing,
        secretFromRef: secret.value,
        workflowId: uid,
        customerId,
        managedBy: managedByOf(namespace, name),
        now: scheduler.now(),
        generateSecret: () => generateWebhookSecret(),
      });
      if (plan.action === 'create') {
        await metadataStore.createSubscription(plan.subscription);
        this.deps.log.info({ resource: `${namespace}/${name}`, workflowId: uid, customerId }, 'Created subscription from resource');
        return { kind: 'synced', subscription: plan.subscription };
      }
      if (plan.action === 'update') {
        const updated = await metadataStore.updateSubscription(customerId, uid, plan.patch);
        if (!updated) return { kind: 'failed', reason: 'StoreUnavailable', message: 'The subscription vanished while it was updated; retrying', subscription: null };
        this.deps.log.info({ resource: `${namespace}/${name}`, workflowId: uid, fields: Object.keys(plan.patch).filter((f) => f !== 'updatedAt') }, 'Updated subscription from resource');
        return { kind: 'synced', subscription: updated };
      }
      return { kind: 'synced', subscription: existing! };
    } catch (error) {
      if (error instanceof DependencyError) {
        return { kind: 'failed', reason: 'StoreUnavailable', message: `The metadata store is unavailable (${error.backend}); retrying`, subscription: existing };
      }
      if (error instanceof KubeError) return { kind: 'failed', reason: 'ApiError', message: error.message, subscription: existing };
      throw error;
    }
  }

  private async readSecret(resource: SubscriptionResource): Promise<{ value: string | null } | { reason: FailureReason; message: string }> {
    const ref = resource.spec.signingSecretRef;
    if (!ref) return { value: null };
    const { namespace } = resource.metadata;
    let secret: { data?: Record<string, string> };
    try {
      secret = await this.deps.kube.request('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(ref.name)}`);
    } catch (error) {
      if (isNotFound(error)) return { reason: 'SecretNotFound', message: `Secret ${namespace}/${ref.name} does not exist` };
      throw error;
    }
    const encoded = secret.data?.[ref.key];
    if (encoded === undefined) return { reason: 'SecretKeyNotFound', message: `Secret ${namespace}/${ref.name} has no key ${JSON.stringify(ref.key)}` };
    const value = Buffer.from(encoded, 'base64').toString('utf8').trim();
    if (!isWebhookSecret(value)) {
      return { reason: 'InvalidSecret', message: `Secret ${namespace}/${ref.name} key ${JSON.stringify(ref.key)} must hold whsec_ followed by base64 of at least 24 bytes` };
    }
    return { value };
  }

  /** The resource is being deleted: delete its subscription, then let the resource go. */
  private async finalize(resource: SubscriptionResource): Promise<ReconcileResult> {
    if (!resource.metadata.finalizers?.includes(FINALIZER)) return { result: 'gone' };
    const { namespace, name, uid } = resource.metadata;
    try {
      const deleted = await this.deps.metadataStore.deleteSubscription(resource.spec.customerId, uid);
      if (deleted) this.deps.log.info({ resource: `${namespace}/${name}`, workflowId: uid }, 'Deleted subscription of deleted resource');
    } catch (error) {
      const message = `Could not delete subscription ${uid}: ${coerceError(error).message}`;
      await this.deps.recordFailure(resource, 'StoreUnavailable', message);
      return { result: 'retry', reason: 'StoreUnavailable', message };
    }
    await this.patchFinalizers(resource, (resource.metadata.finalizers ?? []).filter((f) => f !== FINALIZER));
    return { result: 'deleted' };
  }

  /**
   * Sets `metadata.finalizers` with a merge patch carrying the resourceVersion it was computed from
   * (a 409 means the resource changed meanwhile: the error requeues it). Null when it is gone.
   */
  private async patchFinalizers(resource: SubscriptionResource, finalizers: string[]): Promise<SubscriptionResource | null> {
    const { namespace, name, resourceVersion } = resource.metadata;
    try {
      return await this.deps.kube.request<SubscriptionResource>('PATCH', resourcePath(namespace, name), {
        body: { metadata: { finalizers, resourceVersion } },
        contentType: 'application/merge-patch+json',
      });
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /**
   * Writes `.status` through the status subresource when it changed: a PUT carrying the
   * resourceVersion (optimistic concurrency). On a conflict it re-reads the resource and tries again
   * while the generation is the one the status describes; a newer generation gets its own reconcile.
   */
  private async writeStatus(resource: SubscriptionResource, outcome: ReconcileOutcome): Promise<void> {
    const { kube, scheduler } = this.deps;
    const { namespace, name } = resource.metadata;
    let current = resource;
    for (let attempt = 1; ; attempt++) {
      const status = buildStatus(current, outcome, scheduler.now());
      if (!statusChanged(current.status, status)) return;
      try {
        await kube.request('PUT', `${resourcePath(namespace, name)}/status`, { body: { ...current, status } });
        return;
      } catch (error) {
        if (isNotFound(error)) return;
        if (!isConflict(error) || attempt >= STATUS_WRITE_ATTEMPTS) throw error;
        const fresh = await kube.request<SubscriptionResource>('GET', resourcePath(namespace, name)).catch((e) => (isNotFound(e) ? null : Promise.reject(e)));
        if (!fresh || fresh.metadata.generation !== resource.metadata.generation || fresh.metadata.uid !== resource.metadata.uid) {
          throw new KubeError(409, `Subscription ${namespace}/${name} changed while its status was written; reconciling again`);
        }
        current = fresh;
      }
    }
  }
}

