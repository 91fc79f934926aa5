import { z } from 'zod';
import type { DemoDeps } from '../deps.ts';
import { SINK_PATH } from '../demo-customer.ts';
import { sinkReceiptsSchema } from '../schemas.ts';
import { defineDemoRoute } from '../define-demo-route.ts';

export function makeDemoSinkReceiveRoute(deps: DemoDeps) {
  return defineDemoRoute({
    method: 'post',
    path: SINK_PATH,
    operationId: 'demoWebhookSinkReceive',
    summary: "The demo's built-in webhook receiver",
    description: "The demo customer's default subscription delivers here. Verifies the Standard Webhooks signature and keeps the latest 50 receipts in memory.",
    body: z.unknown().meta({ description: 'A webhook delivery: a JSON array of events.' }),
    bodyValidatedByHandler: true,
    responses: { 204: { description: 'Received' } },
    errors: ['invalid_json', 'payload_too_large', 'unsupported_media_type'],
    handler: ({ req, body, rawBody }) => {
      deps.sink.record(req.headers, rawBody, body, deps.clock.now());
      return { status: 204 };
    },
  });
}

export function makeDemoSinkListRoute(deps: DemoDeps) {
  return defineDemoRoute({
    method: 'get',
    path: SINK_PATH,
    operationId: 'demoWebhookSinkList',
    summary: 'What the built-in webhook receiver got, newest first',
    responses: { 200: { description: 'The latest receipts (this process only)', schema: sinkReceiptsSchema } },
    errors: ['unavailable'],
    handler: async () => {
      await deps.customer.account();
      return { status: 200, body: { workflow_id: deps.sink.current()?.workflow_id ?? null, receipts: deps.sink.list() } };
    },
  });
}
