/**
 * `@triggers/core/runtime`: what a service needs to run — config parsed once, logs, the backend
 * factory (the only place that switches on an engine), the service context, the queue consumer,
 * the HTTP listener and shutdown, and the webhook I/O (sender and per-origin circuit breakers).
 */
export * from '../config.ts';
export * from '../log.ts';
export * from '../backends.ts';
export * from '../service-context.ts';
export * from '../service-runtime.ts';
export * from '../queue-consumer.ts';
export * from '../admin-token.ts';
export * from '../secret-cipher.ts';
export * from '../secret-key.ts';
export * from '../webhooks/webhook-sender.ts';
export * from '../webhooks/ssrf-connector.ts';
export * from '../webhooks/circuit-breaker.ts';
export * from '../telemetry/tracing.ts';
export * from '../telemetry/messaging.ts';
/** The Kafka topics and consumer groups a deployment's services use (for charts and operators that create them). */
export { topicNames, type TopicNames } from '../backends/kafka/topology.ts';
