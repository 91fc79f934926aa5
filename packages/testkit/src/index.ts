/**
 * The test kit: one conformance suite per port, run unchanged against every adapter (keyv style:
 * each call registers mocha `describe`/`it` blocks; tests skip by declared capability, never by
 * backend name). An adapter calls its suite in the test file beside it, before its own specifics:
 * `backends/<engine>/<port>.ts` → `backends/<engine>/<port>.test.ts`.
 *
 * And the helpers the services' tests share: calls through the API, problem assertions, the
 * generated route security tests, engines from `TRIGGERS_TEST_*`, webhook receivers, the services
 * as OS processes. It depends on the core only: starting the whole thing in-process is the
 * all-in-one's (`@triggers/all-in-one/test-server`).
 */
export { eventStoreConformance, type EventStoreCapabilities } from './event-store.conformance.ts';
export { metadataStoreConformance } from './metadata-store.conformance.ts';
export { replayStoreConformance } from './replay-store.conformance.ts';
export { queueConformance, type QueueSuiteCapabilities } from './queue.conformance.ts';
export { idempotencyStoreConformance, type IdempotencySuiteCapabilities } from './idempotency-store.conformance.ts';
export { rateLimiterConformance, type RateLimiterSuiteCapabilities } from './rate-limiter.conformance.ts';
export { deliveryStoreConformance, type DeliveryStoreFixture } from './delivery-store.conformance.ts';
export { eventAcceptorConformance, type EventAcceptorFixture } from './event-acceptor.conformance.ts';
export { uniqueId, uuidv7At, sleep, itIf, assertInvalidRequest, waitUntil, eventually, gaps, watchEventLoopStalls } from './helpers.ts';
export {
  startWebhookReceiver,
  receiverPool,
  verifySignature,
  webhookHeaders,
  eventIdsIn,
  type WebhookReceiver,
  type WebhookReceiverOptions,
  type ScriptedAnswer,
  type ReceivedRequest,
  type AnswerRule,
} from './webhook-receiver.ts';
export { waitForEventStatus, type EventWithAttempts, type WaitForEventOptions } from './wait-for-event.ts';
export { runBulkReplayScenario, waitForReplay, type BulkReplayScenario } from './bulk-replay-scenario.ts';
export { runRetryPolicyScenario, type RetryPolicyScenario } from './retry-policy-scenario.ts';
export {
  requireEngine,
  checkEngine,
  backendsRequired,
  engineAddresses,
  POSTGRES,
  REDIS,
  DYNAMODB,
  SQS,
  KAFKA,
  type Engine,
  type EngineRequirement,
} from './engines.ts';
export {
  RFC3339_MILLIS,
  UUIDV7,
  WHSEC,
  newCustomer,
  issueApiKey,
  patchCustomer,
  subscribe,
  neverMatching,
  createSubscription,
  post,
  postEvent,
  postEvents,
  postEventsInDistinctMillis,
  assertAcceptedAt,
  inboxEvents,
  allInboxEvents,
  type ApiClient,
  type ApiCustomer,
  type CustomerCredentials,
  type CreatedSubscription,
  type PostedEvent,
} from './api-helpers.ts';
export { assertProblem, assertNothingInternal } from './problem-assertions.ts';
export { describeRouteSecurity, concretePath, type RouteSecurityOptions } from './route-security.ts';
export { rawRequest, postChunked, type RawResponse } from './raw-http.ts';
export {
  SERVICE_NAMES,
  freePort,
  postgresUrlWithSchema,
  prepareBackends,
  startAllInOneProcess,
  startServiceProcesses,
  type BackendChoice,
  type EngineAddresses,
  type PreparedBackends,
  type ServiceName,
  type ServiceProcess,
  type ServiceProcesses,
  type StartServicesOptions,
} from './service-processes.ts';
export { checkEnginePrograms, startEngineInstance, type EngineInstance, type EngineKind } from './engine-instance.ts';
export { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';
export { KUBERNETES, kubectl, kubectlOk, startKubernetesInstance, type KubernetesInstance, type CommandResult } from './kube-api-server.ts';
export { withEnv } from './process-env.ts';
export { subscriptionRecord } from './subscription-record.ts';
export { startOtlpReceiver, SPAN_KIND, type OtlpReceiver, type ReceivedSpan, type AttributeValue } from './otlp-receiver.ts';
export { metadataSecretsConformance, type SecretsDatabase } from './metadata-secrets.conformance.ts';
export { runCommand, type CommandOutput } from './run-command.ts';
export { assertFifo } from './fifo-order.ts';
export { countContextWithCalls } from './context-with-spy.ts';
export { captureJsonLines } from './json-lines.ts';
