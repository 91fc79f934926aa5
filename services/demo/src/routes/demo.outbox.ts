import { toIsoMillis } from '@triggers/core/domain';
import type { DemoDeps } from '../deps.ts';
import { outboxQuerySchema, outboxSchema } from '../schemas.ts';
import { defineDemoRoute } from '../define-demo-route.ts';

export function makeDemoOutboxRoute(deps: DemoDeps) {
  return defineDemoRoute({
    method: 'get',
    path: '/demo/outbox',
    operationId: 'demoOutbox',
    summary: 'Notification emails in the outbox, newest first',
    description: 'The default mailer keeps emails here instead of sending them. With `TRIGGERS_RESEND_API_KEY` set they go through Resend and the outbox stays empty.',
    query: outboxQuerySchema,
    responses: { 200: { description: 'The newest messages', schema: outboxSchema } },
    errors: ['invalid_request', 'unavailable'],
    handler: async ({ query }) => {
      const messages = await deps.mailOutbox.list(query.limit ?? 50);
      return {
        status: 200,
        body: {
          provider: deps.mailer.kind,
          from: deps.mailFrom,
          messages: messages.map(({ createdAt, ...message }) => ({ ...message, created_at: toIsoMillis(createdAt) })),
        },
      };
    },
  });
}
