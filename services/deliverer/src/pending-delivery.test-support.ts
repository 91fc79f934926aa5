import type { ServiceContext } from '@triggers/core/runtime';
import { deliveryIdFor, JsonText } from '@triggers/core/domain';
import type { DeliveryMessage } from '@triggers/core/ports';
import { subscriptionRecord, uniqueId, uuidv7At } from '@triggers/testkit';

/**
 * For the deliverer's tests: a new customer's subscription to `webhookUrl`, an event of `eventType`
 * and its pending delivery, written to the context's stores. Returns the attempt-1 message, not
 * yet sent, so a test can change the delivery (claim its attempt) first.
 */
export async function createPendingDelivery(ctx: ServiceContext, webhookUrl: string, eventType: string): Promise<DeliveryMessage> {
  const customerId = uniqueId();
  const workflowId = uniqueId();
  const now = Date.now();
  await ctx.backends.metadataStore.createSubscription(
    subscriptionRecord({ workflowId, customerId, eventSelector: { type: 'event_type', value: eventType }, webhookUrl, createdAt: now, updatedAt: now }),
  );
  const eventId = uuidv7At(now);
  await ctx.backends.eventStore.insertEvents([{ eventId, customerId, payload: JsonText.of({ event_type: eventType }), eventType, timestamp: now }]);
  const deliveryId = deliveryIdFor(eventId, workflowId, undefined);
  await ctx.backends.deliveryStore.createDeliveries([{ deliveryId, eventId, customerId, workflowId, createdAt: now }]);
  return { deliveryId, eventId, customerId, workflowId, attempt: 1 };
}
