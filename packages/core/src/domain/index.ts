/**
 * `@triggers/core/domain`: pure code — no I/O, no timers, time through an injected `Clock`.
 * Events, customers, subscriptions, selectors, the delivery policy (ids, outcomes, retry delay,
 * signatures, SSRF address checks), ids and the error family.
 */
export * from '../clock.ts';
export * from '../errors.ts';
export * from '../ids.ts';
export * from './api-keys.ts';
export * from './customers.ts';
export * from './events.ts';
export * from './json/index.ts';
export * from './subscriptions.ts';
export * from './selectors/index.ts';
export * from './delivery/delivery-ids.ts';
export * from './delivery/errors.ts';
export * from './delivery/outcome.ts';
export * from './delivery/retry-delay.ts';
export * from './delivery/signature.ts';
export * from './delivery/ssrf-policy.ts';
