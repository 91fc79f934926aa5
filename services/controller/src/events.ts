import { randomBytes } from 'node:crypto';
import type { Logger } from '@triggers/core/runtime';
import { coerceError } from '@triggers/core/domain';
import type { KubeClient } from './kube/kube-client.ts';
import { microTime } from './leader/lease-decision.ts';
import { GROUP, KIND, VERSION, type SubscriptionResource } from './subscription-resource.ts';

export const REPORTING_CONTROLLER = 'triggers.dev/subscription-controller';

/**
 * Records a Warning Event (`events.k8s.io/v1`) on a Subscription, shown by `kubectl describe` and
 * `kubectl events`. Best effort: a failure to record is logged, never fails the reconcile.
 */
export function eventRecorder(kube: KubeClient, log: Logger, identity: string, now: () => number) {
  return async (resource: SubscriptionResource, reason: string, note: string): Promise<void> => {
    const { namespace, name, uid, resourceVersion } = resource.metadata;
    const event = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: `${name}.${Date.now().toString(16)}${randomBytes(3).toString('hex')}`.slice(0, 253), namespace },
      eventTime: microTime(now()),
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: `${REPORTING_CONTROLLER}-${identity}`.slice(0, 128),
      action: 'Reconcile',
      reason,
      note: note.slice(0, 1024),
      type: 'Warning',
      regarding: { apiVersion: `${GROUP}/${VERSION}`, kind: KIND, namespace, name, uid, resourceVersion },
    };
    try {
      await kube.request('POST', `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/events`, { body: event });
    } catch (error) {
      log.warn({ resource: `${namespace}/${name}`, reason, err: coerceError(error).message }, 'Failed to record an Event');
    }
  };
}
