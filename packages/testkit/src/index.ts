/**
 * Conformance suites: one per port, run unchanged against every adapter (keyv style). Each call
 * registers mocha `describe`/`it` blocks; tests skip by declared capability, never by backend name.
 */
export { eventStoreConformance, type EventStoreCapabilities } from './event-store.conformance.ts';
export { metadataStoreConformance } from './metadata-store.conformance.ts';
export { queueConformance, type QueueSuiteCapabilities } from './queue.conformance.ts';
export { idempotencyStoreConformance, type IdempotencySuiteCapabilities } from './idempotency-store.conformance.ts';
export { rateLimiterConformance, type RateLimiterSuiteCapabilities } from './rate-limiter.conformance.ts';
export { uniqueId, uuidv7At, sleep, itIf } from './helpers.ts';
export { deliveryStoreConformance, type DeliveryStoreFixture } from './delivery-store.conformance.ts';
export { startWebhookReceiver, type WebhookReceiver, type WebhookReceiverOptions, type ScriptedAnswer, type ReceivedRequest, type AnswerRule } from './webhook-receiver.ts';
export { waitForEventStatus, type EventWithAttempts, type WaitForEventOptions } from './wait-for-event.ts';
export { requireEngine, checkEngine, backendsRequired, type Engine, type EngineRequirement } from './engines.ts';
