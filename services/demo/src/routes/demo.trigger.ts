import type { DemoDeps } from '../deps.ts';
import { decideTrigger } from '../agent-rule.ts';
import { sendNotification, submitEvent } from '../actions.ts';
import { documentEscalationEmail } from '../notification.ts';
import { triggerBodySchema, triggerResultSchema } from '../schemas.ts';
import { defineDemoRoute } from '../define-demo-route.ts';

export function makeDemoTriggerRoute(deps: DemoDeps) {
  return defineDemoRoute({
    method: 'post',
    path: '/demo/trigger',
    operationId: 'demoTrigger',
    summary: 'Run the agent rule on a composed event; submit it and send the email when it triggers',
    description:
      'Triggers when `priority` is high or the description has an urgent keyword (angry, urgent, critical, escalate, emergency; whole words, any case). ' +
      'A triggered event is submitted through `POST /api/v1/events` with the demo customer\'s key (held by the server) as `document.escalated`, and a notification goes to `customer_email`.',
    body: triggerBodySchema,
    responses: { 200: { description: 'The decision, and what was submitted and sent', schema: triggerResultSchema } },
    errors: ['invalid_json', 'invalid_request', 'payload_too_large', 'unsupported_media_type', 'rate_limited', 'unavailable'],
    handler: async ({ body, requestId }) => {
      const decision = decideTrigger({ priority: body.priority, description: body.description });
      if (!decision.triggered) return { status: 200, body: decision };
      const payload = {
        event_type: 'document.escalated',
        source: 'console.composer',
        document_type: body.document_type,
        priority: body.priority,
        description: body.description,
        customer_email: body.customer_email,
        agent: { decision: 'trigger', reason: decision.reason, keywords: decision.keywords },
      };
      const accepted = await submitEvent(deps, payload, requestId);
      const email = await sendNotification(
        deps,
        documentEscalationEmail({
          to: body.customer_email,
          documentType: body.document_type,
          priority: body.priority,
          description: body.description,
          reason: decision.reason,
          eventId: accepted.event_id,
        }),
      );
      return { status: 200, body: { ...decision, ...accepted, payload, email } };
    },
  });
}
