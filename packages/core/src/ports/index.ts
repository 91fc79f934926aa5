/**
 * `@triggers/core/ports`: the contracts the services program against. Each port states its
 * semantics in JSDoc; `backends/` holds one implementation per engine, picked by
 * `createBackends` (`@triggers/core/runtime`).
 */
export * from './delivery-store.ts';
export * from './demo-store.ts';
export * from './event-acceptor.ts';
export * from './event-store.ts';
export * from './idempotency-store.ts';
export * from './mailer.ts';
export * from './metadata-store.ts';
export * from './queue.ts';
export * from './rate-limiter.ts';
export * from './replay-store.ts';
export * from './queue-messages.ts';
