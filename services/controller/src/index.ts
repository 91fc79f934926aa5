import { register as globalRegistry, type Registry } from 'prom-client';
import type { Config, Logger, ReadinessCheck } from '@triggers/core/runtime';
import type { MetadataStore } from '@triggers/core/ports';
import { coerceError } from '@triggers/core/domain';
import { Informer, apiListWatchSource, objectKey, type KubeObject, type ListWatchSource } from './kube/informer.ts';
import { isConflict, type KubeClient } from './kube/kube-client.ts';
import { LeaderElector } from './leader/leader-elector.ts';
import { Reconciler } from './reconcile/reconciler.ts';
import { systemScheduler, type Scheduler } from './scheduler.ts';
import { WorkQueue } from './work-queue.ts';
import { eventRecorder } from './events.ts';
import { controllerMetrics, type ControllerMetrics } from './metrics.ts';
import { collectionPath, type SubscriptionResource } from './subscription-resource.ts';

/**
 * The Subscription operator: informers on Subscriptions and (metadata of) Secrets feed a work
 * queue of `namespace/name` keys; while this replica holds the leader Lease, workers run
 * `reconcile(key)` for each; every `resyncMs` every key is queued again, which also copies the
 * store's state (a 410 Gone disabling) into `.status`. Replicas that do not lead keep their caches
 * warm and write nothing.
 */
export interface ControllerOptions {
  config: Pick<Config, 'controller'> & { delivery: Pick<Config['delivery'], 'ssrfAllow'> };
  kube: KubeClient;
  metadataStore: MetadataStore;
  log: Logger;
  /** Where the metrics go; default the process's registry (served on /metrics). */
  registry?: Registry;
  scheduler?: Scheduler;
  /** Reconciles run at once (never two for one key). Default 2. */
  workers?: number;
}

export interface RunningController {
  readonly isLeader: boolean;
  readonly hasSynced: boolean;
  readonly metrics: ControllerMetrics;
  readonly queue: WorkQueue;
  /** For `/ready`: the Subscription informer has listed once. */
  readonly readiness: ReadinessCheck;
  stop(): Promise<void>;
}

interface SecretMetadata extends KubeObject {
  metadata: { name: string; namespace: string; resourceVersion?: string };
}

export function startController(options: ControllerOptions): RunningController {
  const { kube, log, metadataStore } = options;
  const settings = options.config.controller;
  const scheduler = options.scheduler ?? systemScheduler;
  const metrics = controllerMetrics(options.registry ?? globalRegistry);
  const queue = new WorkQueue({ scheduler });
  const namespaces: (string | undefined)[] = settings.namespaces.length > 0 ? settings.namespaces : [undefined];
  const updateDepth = () => {
    metrics.queueDepth.set(queue.length);
    metrics.queueDelayed.set(queue.delayedCount);
  };

  /** One informer per watched namespace; each change queues keys, failures and relists are counted under `resource`. */
  const informers = <T extends KubeObject>(resource: 'subscriptions' | 'secrets', kind: string, source: (namespace: string | undefined) => ListWatchSource<T>, onChange: (object: T) => void) =>
    namespaces.map(
      (namespace) =>
        new Informer<T>({
          source: source(namespace),
          scheduler,
          onChange: (_event, object) => {
            onChange(object);
            updateDepth();
          },
          onError: (error, delayMs) => {
            metrics.watchErrors.inc({ resource });
            log.warn({ namespace: namespace ?? '*', err: error.message, retryInMs: delayMs }, `Failed to list or watch ${kind}`);
          },
          onList: (why) => metrics.relists.inc({ resource, why }),
        }),
    );

  const subscriptionInformers = informers<SubscriptionResource>('subscriptions', 'Subscriptions', (namespace) => apiListWatchSource(kube, collectionPath(namespace)), (resource) => queue.add(objectKey(resource)));
  const cached = (key: string) => {
    for (const informer of subscriptionInformers) {
      const found = informer.get(key);
      if (found) return found;
    }
    return undefined;
  };
  const allKeys = () => subscriptionInformers.flatMap((i) => i.keys());
  const subscriptionsListed = () => subscriptionInformers.every((i) => i.hasSynced);

  // A changed Secret wakes every Subscription of its namespace that references it (rotation).
  const secretInformers = informers<SecretMetadata>(
    'secrets',
    'Secrets',
    (namespace) => apiListWatchSource(kube, namespace ? `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets` : '/api/v1/secrets', { metadataOnly: true }),
    (secret) => {
      for (const informer of subscriptionInformers) {
        for (const resource of informer.list()) {
          if (resource.metadata.namespace === secret.metadata.namespace && resource.spec?.signingSecretRef?.name === secret.metadata.name) {
            queue.add(objectKey(resource));
          }
        }
      }
    },
  );

  const recordFailure = eventRecorder(kube, log, settings.identity, () => scheduler.now());
  const reconciler = new Reconciler({ kube, metadataStore, scheduler, log, ssrfAllow: options.config.delivery.ssrfAllow, cached, recordFailure });

  const enqueueAll = () => {
    for (const key of allKeys()) queue.add(key);
    updateDepth();
  };
  const elector = new LeaderElector({
    kube,
    scheduler,
    log,
    namespace: settings.lease.namespace,
    name: settings.lease.name,
    identity: settings.identity,
    durationMs: settings.lease.durationMs,
    onStartedLeading: () => {
      metrics.leader.set(1);
      enqueueAll();
    },
    onStoppedLeading: () => metrics.leader.set(0),
  });
  metrics.leader.set(0);

  async function work(): Promise<void> {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      // Only the leader reconciles; a new leader queues every key when it starts leading.
      if (!elector.isLeader) {
        queue.done(key);
        updateDepth();
        continue;
      }
      const stopTimer = metrics.reconcileDuration.startTimer();
      try {
        const outcome = await reconciler.reconcile(key);
        metrics.reconciles.inc({ result: outcome.result });
        if (outcome.result === 'retry') {
          const delay = queue.addRateLimited(key);
          log.info({ resource: key, reason: outcome.reason, retryInMs: delay }, 'Requeued Subscription');
        } else {
          queue.forget(key);
        }
      } catch (thrown) {
        const error = coerceError(thrown);
        if (isConflict(error)) {
          // The resource changed under this reconcile (a stale copy): normal, and the newer copy is coming.
          metrics.reconciles.inc({ result: 'conflict' });
          const delay = queue.addRateLimited(key);
          log.debug({ resource: key, err: error.message, retryInMs: delay }, 'Requeued Subscription after a conflict');
          continue;
        }
        metrics.reconciles.inc({ result: 'error' });
        const delay = queue.addRateLimited(key);
        log.warn({ resource: key, err: error.message, retryInMs: delay }, 'Failed to reconcile Subscription');
        const resource = cached(key);
        if (resource && elector.isLeader) await recordFailure(resource, 'ReconcileError', error.message);
      } finally {
        stopTimer();
        queue.done(key);
        updateDepth();
      }
    }
  }

  for (const informer of [...subscriptionInformers, ...secretInformers]) informer.start();
  elector.start();
  const workers = Array.from({ length: options.workers ?? 2 }, () => work());
  let cancelResync = scheduleResync();
  function scheduleResync(): () => void {
    return scheduler.after(settings.resyncMs, () => {
      if (elector.isLeader) enqueueAll();
      cancelResync = scheduleResync();
    });
  }

  log.info({ identity: settings.identity, namespaces: settings.namespaces.length > 0 ? settings.namespaces : 'all', lease: `${settings.lease.namespace}/${settings.lease.name}` }, 'Started Subscription controller');

  return {
    get isLeader() {
      return elector.isLeader;
    },
    get hasSynced() {
      return subscriptionsListed();
    },
    metrics,
    queue,
    readiness: {
      name: 'kubernetes',
      check: async () => {
        if (!subscriptionsListed()) throw new Error('Subscriptions not listed yet');
      },
    },
    async stop() {
      cancelResync();
      queue.shutDown();
      await Promise.all(workers);
      // Release the Lease only once no reconcile of ours is running.
      await elector.stop();
      await Promise.all([...subscriptionInformers, ...secretInformers].map((i) => i.stop()));
      log.info({ identity: settings.identity }, 'Stopped Subscription controller');
    },
  };
}
