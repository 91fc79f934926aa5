import type { AnyRoute } from '@triggers/core/http/route.ts';
import type { MailOutbox, Mailer } from '@triggers/core/ports/mailer.ts';
import type { DemoStore } from '@triggers/core/ports/demo-store.ts';
import type { InboxDeps } from '../deps.ts';
import type { DemoDeps } from './deps.ts';
import { DemoCustomer } from './demo-customer.ts';
import { createPublicApiClient } from './public-api.ts';
import { WebhookSink } from './webhook-sink.ts';
import { makeDemoStatusRoute } from './routes/demo.status.ts';
import { makeDemoTriggerRoute } from './routes/demo.trigger.ts';
import { makeDemoAnalyzeTicketRoute } from './routes/demo.analyze-ticket.ts';
import { makeDemoInboxRoute } from './routes/demo.inbox.ts';
import { makeDemoEventGetRoute, makeDemoEventReplayRoute } from './routes/demo.events.ts';
import {
  makeDemoSubscriptionCreateRoute,
  makeDemoSubscriptionDeleteRoute,
  makeDemoSubscriptionListRoute,
  makeDemoSubscriptionRotateSecretRoute,
  makeDemoSubscriptionUpdateRoute,
} from './routes/demo.subscriptions.ts';
import { makeDemoSelectorTestRoute } from './routes/demo.selectors-test.ts';
import { makeDemoStatsRoute } from './routes/demo.stats.ts';
import { makeDemoOutboxRoute } from './routes/demo.outbox.ts';
import { makeDemoBurstRoute } from './routes/demo.burst.ts';
import { makeDemoSinkListRoute, makeDemoSinkReceiveRoute } from './routes/demo.webhook-sink.ts';

export interface DemoOptions {
  inbox: InboxDeps;
  mailer: Mailer;
  mailOutbox: MailOutbox;
  demoStore: DemoStore;
  mailFrom: string;
  /** The public API the demo calls as its customer (resolved per call). */
  publicApiUrl: () => string;
}

/**
 * The console's back end (API.md "Demo"): `/demo/*`, unauthenticated, acting as one demo customer
 * whose API key never leaves the server. Every change goes through the public API over HTTP.
 */
export function demoRoutes(options: DemoOptions): AnyRoute[] {
  const sink = new WebhookSink();
  const api = createPublicApiClient({ baseUrl: options.publicApiUrl, log: options.inbox.log });
  const customer = new DemoCustomer({ inbox: options.inbox, demoStore: options.demoStore, api, baseUrl: options.publicApiUrl, sink });
  const deps: DemoDeps = { inbox: options.inbox, customer, sink, mailer: options.mailer, mailOutbox: options.mailOutbox, mailFrom: options.mailFrom };
  return [
    makeDemoStatusRoute(deps),
    makeDemoTriggerRoute(deps),
    makeDemoAnalyzeTicketRoute(deps),
    makeDemoInboxRoute(deps),
    makeDemoEventGetRoute(deps),
    makeDemoEventReplayRoute(deps),
    makeDemoSubscriptionListRoute(deps),
    makeDemoSubscriptionCreateRoute(deps),
    makeDemoSubscriptionUpdateRoute(deps),
    makeDemoSubscriptionDeleteRoute(deps),
    makeDemoSubscriptionRotateSecretRoute(deps),
    makeDemoSelectorTestRoute(deps),
    makeDemoStatsRoute(deps),
    makeDemoOutboxRoute(deps),
    makeDemoBurstRoute(deps),
    makeDemoSinkReceiveRoute(deps),
    makeDemoSinkListRoute(deps),
  ];
}
