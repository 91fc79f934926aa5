import { randomInt } from 'node:crypto';
import type { DemoDeps } from '../deps.ts';
import { burstBodySchema, burstResultSchema } from '../schemas.ts';
import { defineDemoRoute } from '../define-demo-route.ts';

const DOCUMENT_TYPES = ['Contract', 'Invoice', 'Support ticket', 'Purchase order', 'Refund request'];
const KINDS = [
  { event_type: 'document.escalated', weight: 6 },
  { event_type: 'ticket.escalated', weight: 2 },
  { event_type: 'metrics.sample', weight: 2 },
];

/** A plausible mix: most events match the default sink subscription, some match nothing. */
function samplePayload(index: number): Record<string, unknown> {
  let pick = randomInt(KINDS.reduce((sum, k) => sum + k.weight, 0));
  const kind = KINDS.find((k) => (pick -= k.weight) < 0)!;
  return {
    event_type: kind.event_type,
    source: 'console.burst',
    sequence: index + 1,
    document_type: DOCUMENT_TYPES[randomInt(DOCUMENT_TYPES.length)],
    priority: ['low', 'normal', 'high'][randomInt(3)],
    amount: randomInt(10, 5000),
  };
}

export function makeDemoBurstRoute(deps: DemoDeps) {
  return defineDemoRoute({
    method: 'post',
    path: '/demo/burst',
    operationId: 'demoBurst',
    summary: 'Submit a burst of sample events (for the live chart)',
    description: 'One `POST /api/v1/events/batch` as the demo customer: `document.escalated`, `ticket.escalated` and `metrics.sample` events (the last match no default subscription).',
    body: burstBodySchema,
    responses: { 202: { description: 'Accepted', schema: burstResultSchema } },
    errors: ['invalid_json', 'invalid_request', 'payload_too_large', 'unsupported_media_type', 'rate_limited', 'unavailable'],
    handler: async ({ body, requestId }) => {
      const count = body.count ?? 20;
      const events = Array.from({ length: count }, (_, i) => ({ payload: samplePayload(i) }));
      const response = await deps.customer.call({ method: 'POST', path: '/api/v1/events/batch', json: { events }, requestId });
      const accepted = (response.body as { events: { event_id: string }[] }).events;
      return { status: 202, body: { accepted: accepted.length, event_ids: accepted.map((e) => e.event_id) } };
    },
  });
}
