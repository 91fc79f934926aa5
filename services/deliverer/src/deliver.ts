import type { EventStore } from '@triggers/core/ports/event-store.ts';
import type { DeliveryRecord, DeliveryStore } from '@triggers/core/ports/delivery-store.ts';
import type { MetadataStore } from '@triggers/core/ports/metadata-store.ts';
import type { Queue } from '@triggers/core/ports/queue.ts';
import type { DeliveryMessage } from '@triggers/core/domain/delivery-message.ts';
import type { Subscription } from '@triggers/core/domain/subscriptions.ts';
import type { AttemptStatus } from '@triggers/core/domain/events.ts';
import type { Clock } from '@triggers/core/clock.ts';
import type { Logger } from '@triggers/core/log.ts';
import { classifyError, classifyResponse, countsAgainstOrigin, type DeliveryOutcome } from '@triggers/core/domain/delivery/outcome.ts';
import { computeRetryDelay, parseRetryAfter } from '@triggers/core/domain/delivery/retry-delay.ts';
import { webhookSignatureHeaders } from '@triggers/core/domain/delivery/signature.ts';
import { CircuitOpenError } from '@triggers/core/domain/delivery/errors.ts';
import { originOf, type CircuitBreakers } from '@triggers/core/domain/delivery/circuit-breaker.ts';
import type { WebhookResponse, WebhookSender } from '@triggers/core/delivery/webhook-sender.ts';
import { webhookBody } from './webhook-body.ts';
import type { DelivererMetrics } from './metrics.ts';

export interface DelivererDeps {
  eventStore: EventStore;
  deliveryStore: DeliveryStore;
  metadataStore: MetadataStore;
  queue: Queue;
  sender: WebhookSender;
  breakers: CircuitBreakers;
  clock: Clock;
  log: Logger;
  metrics: DelivererMetrics;
  random: () => number;
  settings: { maxAttempts: number; retryBaseMs: number; retryMaxDelayMs: number };
}

/** A message may arrive this much before its delivery's due time and still go (timer granularity). */
const EARLY_TOLERANCE_MS = 5;
/** Spread deferred deliveries over this much past the breaker's reset so they don't stampede the probe. */
const BREAKER_DEFER_SPREAD_MS = 1000;

/**
 * Makes attempt `message.attempt` of one delivery, or recognises that it must not:
 * - the delivery is finished, or that attempt was already made (a duplicated message) → nothing;
 * - it is not due yet (a duplicate of a delayed retry) → put back until it is;
 * - its origin's circuit is open → put back until the breaker may let it through, attempt unspent.
 * The attempt counter is claimed with compare-and-set inside the breaker, so two consumers of one
 * message cannot both send attempt N.
 */
export async function deliver(deps: DelivererDeps, message: DeliveryMessage): Promise<void> {
  const delivery = await deps.deliveryStore.getDelivery(message.deliveryId);
  if (!delivery || delivery.status !== 'pending' || delivery.attemptsMade >= message.attempt) return;
  const log = deps.log.child({ eventId: delivery.eventId, workflowId: delivery.workflowId, deliveryId: delivery.deliveryId });

  const now = deps.clock.now();
  if (delivery.nextAttemptAt > now + EARLY_TOLERANCE_MS) {
    await putBack(deps, delivery, delivery.nextAttemptAt - now);
    return;
  }

  const subscription = await deps.metadataStore.getSubscription(delivery.customerId, delivery.workflowId);
  if (!subscription || subscription.status !== 'active') {
    await deps.deliveryStore.finishDelivery(delivery.deliveryId, {
      status: 'failed',
      reason: subscription ? 'subscription disabled' : 'subscription deleted',
      now,
    });
    return;
  }
  const event = await deps.eventStore.getEvent(delivery.customerId, delivery.eventId);
  if (!event) {
    await deps.deliveryStore.finishDelivery(delivery.deliveryId, { status: 'failed', reason: 'event not found', now });
    return;
  }

  const origin = originOf(subscription.webhookUrl);
  if (!deps.breakers.canRequest(origin)) {
    await deferForBreaker(deps, delivery, origin);
    return;
  }

  const attempt = delivery.attemptsMade + 1;
  const body = webhookBody([event]);
  const startedAt = deps.clock.now();
  let response: WebhookResponse | 'not-claimed';
  try {
    response = await deps.breakers.run(
      origin,
      async () => {
        if (!(await deps.deliveryStore.incrementAttempts(delivery.deliveryId, delivery.attemptsMade, startedAt))) return 'not-claimed' as const;
        return deps.sender.send({ url: subscription.webhookUrl, body, headers: signedHeaders(subscription, delivery.deliveryId, body, startedAt) });
      },
      { isFailure: (r) => r !== 'not-claimed' && countsAgainstOrigin(outcomeOf(r)) },
    );
  } catch (error) {
    if (error instanceof CircuitOpenError) {
      await deferForBreaker(deps, delivery, origin);
      return;
    }
    throw error;
  }
  if (response === 'not-claimed') return;

  const outcome = outcomeOf(response);
  deps.metrics.attempts.inc({ outcome });
  deps.metrics.attemptDuration.observe(response.durationMs / 1000);
  const willRetry = outcome === 'retry' && attempt < deps.settings.maxAttempts;
  await deps.eventStore.recordAttempt({
    eventId: delivery.eventId,
    customerId: delivery.customerId,
    workflowId: delivery.workflowId,
    deliveryId: delivery.deliveryId,
    attempt,
    status: attemptStatus(outcome, willRetry),
    statusCode: response.statusCode,
    error: response.error ? response.error.message : null,
    durationMs: Math.round(response.durationMs),
    timestamp: startedAt,
    responseBody: response.bodyPrefix || null,
  });

  const finishedAt = deps.clock.now();
  const reason = describe(response);
  switch (outcome) {
    case 'succeeded':
      await deps.deliveryStore.finishDelivery(delivery.deliveryId, { status: 'succeeded', now: finishedAt });
      return;
    case 'disable':
      await deps.metadataStore.updateSubscription(delivery.customerId, delivery.workflowId, {
        status: 'disabled',
        disabledReason: `The webhook answered 410 Gone on ${new Date(finishedAt).toISOString()}`,
        updatedAt: finishedAt,
      });
      log.warn('Disabled subscription after 410 Gone');
      await deps.deliveryStore.finishDelivery(delivery.deliveryId, { status: 'failed', reason, now: finishedAt });
      return;
    case 'fail':
      await deps.deliveryStore.finishDelivery(delivery.deliveryId, { status: 'failed', reason, now: finishedAt });
      return;
    case 'retry': {
      if (!willRetry) {
        await deps.deliveryStore.finishDelivery(delivery.deliveryId, { status: 'failed', reason: `gave up after ${attempt} attempts: ${reason}`, now: finishedAt });
        return;
      }
      const delayMs = computeRetryDelay({
        attempt,
        baseMs: deps.settings.retryBaseMs,
        maxDelayMs: deps.settings.retryMaxDelayMs,
        retryAfterMs: parseRetryAfter(response.headers['retry-after'], finishedAt),
        random: deps.random,
      });
      await deps.deliveryStore.scheduleNextAttempt(delivery.deliveryId, finishedAt + delayMs);
      await deps.queue.send('deliveries', { body: { ...message, attempt: attempt + 1 } satisfies DeliveryMessage, delayMs, key: delivery.workflowId });
      log.debug({ attempt, delayMs }, 'Scheduled retry');
      return;
    }
  }
}

function outcomeOf(response: WebhookResponse): DeliveryOutcome {
  if (response.error) return classifyError(response.error);
  return response.statusCode === null ? 'retry' : classifyResponse(response.statusCode);
}

function attemptStatus(outcome: DeliveryOutcome, willRetry: boolean): AttemptStatus {
  if (outcome === 'succeeded') return 'succeeded';
  return willRetry ? 'retrying' : 'failed';
}

function describe(response: WebhookResponse): string {
  if (response.error) return response.error.message;
  return `HTTP ${response.statusCode}`;
}

function signedHeaders(subscription: Subscription, deliveryId: string, body: string, now: number): Record<string, string> {
  const secrets = [subscription.secret];
  if (subscription.previousSecret && (subscription.previousSecretExpiresAt ?? 0) > now) secrets.push(subscription.previousSecret);
  return {
    'content-type': 'application/json',
    ...webhookSignatureHeaders({ id: deliveryId, timestampSeconds: Math.floor(now / 1000), body, secrets }),
  };
}

async function putBack(deps: DelivererDeps, delivery: DeliveryRecord, delayMs: number): Promise<void> {
  const body: DeliveryMessage = {
    deliveryId: delivery.deliveryId,
    eventId: delivery.eventId,
    customerId: delivery.customerId,
    workflowId: delivery.workflowId,
    attempt: delivery.attemptsMade + 1,
  };
  await deps.queue.send('deliveries', { body, delayMs: Math.max(0, Math.round(delayMs)), key: delivery.workflowId });
}

async function deferForBreaker(deps: DelivererDeps, delivery: DeliveryRecord, origin: string): Promise<void> {
  deps.metrics.deferredByBreaker.inc();
  await putBack(deps, delivery, deps.breakers.retryInMs(origin) + deps.random() * BREAKER_DEFER_SPREAD_MS);
}
