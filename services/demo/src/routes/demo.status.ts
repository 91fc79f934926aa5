import type { DemoDeps } from '../deps.ts';
import { DEMO_CUSTOMER } from '../demo-customer.ts';
import { URGENT_KEYWORDS } from '../agent-rule.ts';
import { demoStatusSchema } from '../schemas.ts';
import { defineDemoRoute } from '../define-demo-route.ts';

export function makeDemoStatusRoute(deps: DemoDeps) {
  return defineDemoRoute({
    method: 'get',
    path: '/demo/status',
    operationId: 'demoStatus',
    summary: 'The demo customer and how notifications are sent',
    description: 'Creates the demo customer (and its webhook sink subscription) on first use. Never returns an API key.',
    responses: { 200: { description: 'The demo set-up', schema: demoStatusSchema } },
    errors: ['unavailable'],
    handler: async () => {
      const account = await deps.customer.account();
      const sink = deps.sink.current();
      return {
        status: 200,
        body: {
          customer_id: account.customer_id,
          customer_name: DEMO_CUSTOMER.name,
          mail: { provider: deps.mailer.kind, from: deps.mailFrom },
          webhook_sink: sink ? { workflow_id: sink.workflow_id, url: sink.url } : null,
          urgent_keywords: [...URGENT_KEYWORDS],
        },
      };
    },
  });
}
