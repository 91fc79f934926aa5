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
