import type { AnyRoute } from '@triggers/core/http';
import type { DemoDeps } from '../deps.ts';
import { makeProxyRoute, type ProxySpec } from '../proxy-route.ts';

/**
 * The console's reads, subscription changes and bulk replays: each is its `/api/v1/*` twin called as the demo
 * customer (see makeProxyRoute), so it answers, validates and fails exactly as the public API does.
 */
export function makeDemoPublicApiRoutes(deps: DemoDeps, publicRoutes: readonly AnyRoute[]): AnyRoute[] {
  const proxy = (operationId: string, summary: string, extra: Omit<ProxySpec, 'operationId' | 'summary'> = {}) =>
    makeProxyRoute(deps, publicRoutes, { operationId, summary, ...extra });
  return [
    proxy('listInbox', "The demo customer's inbox", { note: 'the same filters, paging and errors.' }),
    proxy('getEvent', 'One demo event with its delivery attempts'),
    proxy('replayEvent', 'Replay a demo event'),
    proxy('createReplay', "Replay the demo customer's events a filter matches (bulk replay)", { note: 'the same filter and errors; no Idempotency-Key is forwarded.' }),
    proxy('getReplay', 'A demo bulk replay and its progress'),
    proxy('cancelReplay', 'Cancel a demo bulk replay'),
    proxy('listSubscriptions', "The demo customer's subscriptions"),
    proxy('createSubscription', 'Subscribe a webhook for the demo customer', { note: 'the signing secret is in this answer only.' }),
    proxy('updateSubscription', 'Change a demo subscription (e.g. `{"status": "disabled"}`)'),
    proxy('deleteSubscription', 'Delete a demo subscription'),
    proxy('rotateSubscriptionSecret', "Replace a demo subscription's signing secret", {
      note: 'the new secret is in this answer only.',
      // The built-in sink must keep verifying signatures after its subscription's secret changes.
      afterwards: async (response) => {
        const rotated = response.body as { workflow_id: string; secret: string };
        await deps.customer.noteRotatedSecret(rotated.workflow_id, rotated.secret);
      },
    }),
  ];
}
