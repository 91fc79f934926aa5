import { MANAGED_BY_PREFIX } from '@triggers/core/domain';

/** The `Subscription` custom resource (crds/subscriptions.triggers.dev.yaml) as the controller reads it. */

export const GROUP = 'triggers.dev';
export const VERSION = 'v1alpha1';
export const PLURAL = 'subscriptions';
export const KIND = 'Subscription';
/** Keeps the resource until the controller has deleted its subscription from the store. */
export const FINALIZER = 'triggers.dev/subscription';

export interface SubscriptionSpec {
  customerId: string;
  selector: unknown;
  webhookUrl: string;
  signingSecretRef?: { name: string; key: string };
  batching?: { maxEvents: number; windowMs: number };
  retry?: { maxAttempts?: number; scheduleMs?: number[]; baseMs?: number; maxDelayMs?: number };
  timeoutMs?: number;
  ordering?: 'unordered' | 'fifo';
  enabled?: boolean;
  description?: string;
}

export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** metav1.Condition. */
export interface Condition {
  type: 'Ready' | 'Synced';
  status: ConditionStatus;
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface SubscriptionStatus {
  observedGeneration?: number;
  subscriptionId?: string;
  disabledReason?: string;
  lastDelivery?: { outcome: string; at: string };
  conditions?: Condition[];
}

export interface SubscriptionResource {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation?: number;
    resourceVersion?: string;
    deletionTimestamp?: string;
    finalizers?: string[];
    [key: string]: unknown;
  };
  spec: SubscriptionSpec;
  status?: SubscriptionStatus;
}

/** `namespace/name`: the work queue's key. */
export const resourceKey = (namespace: string, name: string): string => `${namespace}/${name}`;

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** What the store's `managedBy` says for a resource (the REST API's 409 names it). */
export const managedByOf = (namespace: string, name: string): string => `${MANAGED_BY_PREFIX}${namespace}/${name}`;

export function collectionPath(namespace?: string): string {
  return namespace ? `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(namespace)}/${PLURAL}` : `/apis/${GROUP}/${VERSION}/${PLURAL}`;
}

export const resourcePath = (namespace: string, name: string): string => `${collectionPath(namespace)}/${encodeURIComponent(name)}`;
