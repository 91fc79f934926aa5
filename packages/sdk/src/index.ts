/**
 * `@triggers/sdk`: a TypeScript client for the Triggers API. No runtime dependencies: the
 * platform's fetch, WebCrypto and streams (Node ≥ 20, browsers, Deno, Bun, workers).
 */
export { Triggers, EventsResource, InboxResource, SubscriptionsResource, MAX_BATCH_EVENTS, type SendOptions, type InboxListOptions, type SubscriptionListOptions } from './client.ts';
export { ReplaysResource, type ReplayCreateOptions, type ReplayWaitOptions } from './replays.ts';
export type { ClientOptions, RequestOptions } from './transport.ts';
export type { RetryOptions } from './retry.ts';
export { TriggersError, WebhookVerificationError, type ClientErrorCode } from './errors.ts';
export { verifyWebhook, signWebhook, type VerifyOptions, type HeaderBag } from './webhooks.ts';
export { readServerSentEvents, type StreamOptions, type ServerSentEvent } from './event-stream.ts';
export type * from './api.gen.ts';
