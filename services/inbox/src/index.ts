import { makeReplayCreateRoute } from './routes/replays.create.ts';
import { makeReplayGetRoute } from './routes/replays.get.ts';
import { makeReplayCancelRoute } from './routes/replays.cancel.ts';
import type { AnyRoute } from '@triggers/core/http';
import type { ServiceContext } from '@triggers/core/runtime';
import type { InboxDeps } from './deps.ts';
import { makeInboxListRoute } from './routes/inbox.list.ts';
import { makeEventGetRoute } from './routes/events.get.ts';
import { makeEventReplayRoute } from './routes/events.replay.ts';
import { makeEventStreamRoute } from './routes/events.stream.ts';
import { makeSubscriptionCreateRoute } from './routes/subscriptions.create.ts';
import { makeSubscriptionListRoute } from './routes/subscriptions.list.ts';
import { makeSubscriptionGetRoute } from './routes/subscriptions.get.ts';
import { makeSubscriptionUpdateRoute } from './routes/subscriptions.update.ts';
import { makeSubscriptionDeleteRoute } from './routes/subscriptions.delete.ts';
import { makeSubscriptionRotateSecretRoute } from './routes/subscriptions.rotate-secret.ts';
import { makeTestCustomerCreateRoute } from './routes/test-customers.create.ts';
import { makeTestSubscriptionCreateRoute } from './routes/test-subscriptions.create.ts';
import { makeApiKeyCreateRoute } from './routes/api-keys.create.ts';
import { makeApiKeyDeleteRoute } from './routes/api-keys.delete.ts';
import { makeCustomerUpdateRoute } from './routes/customers.update.ts';
import { demoRoutes, type CustomerAccounts } from '@triggers/demo';
import { createTestCustomer, issueApiKey } from './admin/customers.ts';

export { mountConsole, CONSOLE_DIR, CONSOLE_DIST_DIR } from './console-static.ts';

export interface InboxRoutesOptions {
  /**
   * This process's own base URL, known once it listens: the demo calls the public API there unless
   * `TRIGGERS_DEMO_API_URL` names another (e.g. the ingress, when ingest runs elsewhere).
   */
  selfUrl?: () => string;
}

/** The inbox service's routes: the read API, subscriptions, admin, and (when enabled) the demo. */
export function inboxRoutes(ctx: ServiceContext, options: InboxRoutesOptions = {}): AnyRoute[] {
  const deps: InboxDeps = {
    clock: ctx.clock,
    log: ctx.log,
    eventStore: ctx.backends.eventStore,
    metadataStore: ctx.backends.metadataStore,
    deliveryStore: ctx.backends.deliveryStore,
    replayStore: ctx.backends.replayStore,
    queue: ctx.backends.queue,
    settings: { ssrfAllow: ctx.config.delivery.ssrfAllow, maxBodyBytes: ctx.config.ingest.maxPayloadBytes, stream: ctx.config.stream },
  };
  const routes: AnyRoute[] = [
    makeInboxListRoute(deps),
    // Before `/api/v1/events/:event_id`, which would otherwise take "stream" as an id.
    makeEventStreamRoute(deps),
    makeEventGetRoute(deps),
    makeEventReplayRoute(deps),
    makeReplayCreateRoute(deps),
    makeReplayGetRoute(deps),
    makeReplayCancelRoute(deps),
    makeSubscriptionCreateRoute(deps),
    makeSubscriptionListRoute(deps),
    makeSubscriptionGetRoute(deps),
    makeSubscriptionUpdateRoute(deps),
    makeSubscriptionDeleteRoute(deps),
    makeSubscriptionRotateSecretRoute(deps),
    makeTestCustomerCreateRoute(deps),
    makeTestSubscriptionCreateRoute(deps),
    makeApiKeyCreateRoute(deps),
    makeApiKeyDeleteRoute(deps),
    makeCustomerUpdateRoute(deps),
  ];
  if (!ctx.config.demoEnabled) return routes;
  const accounts: CustomerAccounts = {
    createTestCustomer: (details) => createTestCustomer(deps, details),
    issueApiKey: (customer) => issueApiKey(deps, customer, null),
  };
  return [...routes, ...demoRoutes(ctx, { publicRoutes: routes, accounts, selfUrl: options.selfUrl })];
}
