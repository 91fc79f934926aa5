import { TriggersError } from '@triggers/core/domain';
import type { AnyRoute } from '@triggers/core/http';
import type { ServiceContext } from '@triggers/core/runtime';
import type { DemoDeps } from './deps.ts';
import { DemoCustomer, type CustomerAccounts } from './demo-customer.ts';
import { createPublicApiClient } from './public-api.ts';
import { WebhookSink } from './webhook-sink.ts';
import { makeDemoStatusRoute } from './routes/demo.status.ts';
import { makeDemoTriggerRoute } from './routes/demo.trigger.ts';
import { makeDemoAnalyzeTicketRoute } from './routes/demo.analyze-ticket.ts';
import { makeDemoPublicApiRoutes } from './routes/demo.public-api.ts';
import { makeDemoEventStreamRoute } from './routes/demo.events-stream.ts';
import { makeDemoSelectorTestRoute } from './routes/demo.selectors-test.ts';
import { makeDemoStatsRoute } from './routes/demo.stats.ts';
import { makeDemoOutboxRoute } from './routes/demo.outbox.ts';
import { makeDemoBurstRoute } from './routes/demo.burst.ts';
import { makeDemoSinkListRoute, makeDemoSinkReceiveRoute } from './routes/demo.webhook-sink.ts';

export type { CustomerAccounts } from './demo-customer.ts';

export interface DemoOptions {
  /** The public API's routes: the demo's reads and subscription changes are their proxies. */
  publicRoutes: readonly AnyRoute[];
  /** How the demo customer and its keys are made. */
  accounts: CustomerAccounts;
  /**
   * This process's own base URL, known once it listens: the demo calls the public API there unless
   * `TRIGGERS_DEMO_API_URL` names another (e.g. the ingress, when ingest runs elsewhere).
   */
  selfUrl?: () => string;
}

/**
 * The console's back end (API.md "Demo"): `/demo/*`, unauthenticated, acting as one demo customer
 * whose API key never leaves the server. Every change goes through the public API over HTTP.
 */
export function demoRoutes(ctx: ServiceContext, options: DemoOptions): AnyRoute[] {
  const publicApiUrl = () => {
    const url = ctx.config.demo.apiUrl ?? options.selfUrl?.();
    if (!url) throw new TriggersError('unavailable', { detail: 'The demo does not know where the public API is: set TRIGGERS_DEMO_API_URL.' });
    return url;
  };
  const { eventStore, metadataStore, demoStore, mailer, mailOutbox } = ctx.backends;
  const sink = new WebhookSink();
  const api = createPublicApiClient({ baseUrl: publicApiUrl, log: ctx.log });
  const customer = new DemoCustomer({ log: ctx.log, metadataStore, accounts: options.accounts, demoStore, api, baseUrl: publicApiUrl, sink });
  const deps: DemoDeps = { clock: ctx.clock, log: ctx.log, eventStore, customer, sink, mailer, mailOutbox, mailFrom: ctx.config.mail.from };
  return [
    makeDemoStatusRoute(deps),
    makeDemoTriggerRoute(deps),
    makeDemoAnalyzeTicketRoute(deps),
    // Before the proxied `/demo/events/:event_id`, which would take "stream" for an id.
    makeDemoEventStreamRoute(deps, options.publicRoutes),
    ...makeDemoPublicApiRoutes(deps, options.publicRoutes),
    makeDemoSelectorTestRoute(deps),
    makeDemoStatsRoute(deps),
    makeDemoOutboxRoute(deps),
    makeDemoBurstRoute(deps),
    makeDemoSinkReceiveRoute(deps),
    makeDemoSinkListRoute(deps),
  ];
}
