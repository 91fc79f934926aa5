import { defineRoute } from '@triggers/core/http/route.ts';
import type { DemoDeps } from '../deps.ts';
import {
  pageQuerySchema,
  rotatedSecretSchema,
  subscriptionCreateSchema,
  subscriptionPageSchema,
  subscriptionSchema,
  subscriptionUpdateSchema,
  subscriptionWithSecretSchema,
  workflowIdParams,
} from '../../schemas.ts';
import { idFromPath, subscriptionNotFound } from '../../path-ids.ts';

/** The demo customer's subscriptions: each route proxies its `/api/v1/subscriptions` twin. */

const bodyErrors = ['invalid_json', 'invalid_request', 'invalid_selector', 'invalid_webhook_url', 'not_found', 'payload_too_large', 'unsupported_media_type', 'unavailable'] as const;

export function makeDemoSubscriptionListRoute(deps: DemoDeps) {
  return defineRoute({
    method: 'get',
    path: '/demo/subscriptions',
    operationId: 'demoListSubscriptions',
    summary: "The demo customer's subscriptions",
    description: 'Proxies `GET /api/v1/subscriptions`.',
    tags: ['Demo'],
    auth: 'none',
    query: pageQuerySchema,
    responses: { 200: { description: 'One page, newest first', schema: subscriptionPageSchema } },
    errors: ['invalid_request', 'unavailable'],
    handler: async ({ query, requestId }) => {
      const response = await deps.customer.call({
        method: 'GET',
        path: '/api/v1/subscriptions',
        query: { limit: query.limit === undefined ? undefined : String(query.limit), cursor: query.cursor },
        requestId,
      });
      return { status: 200, body: response.body };
    },
  });
}

export function makeDemoSubscriptionCreateRoute(deps: DemoDeps) {
  return defineRoute({
    method: 'post',
    path: '/demo/subscriptions',
    operationId: 'demoCreateSubscription',
    summary: 'Subscribe a webhook for the demo customer',
    description: 'Proxies `POST /api/v1/subscriptions`: the signing secret is in this answer only.',
    tags: ['Demo'],
    auth: 'none',
    body: subscriptionCreateSchema,
    bodyValidatedByHandler: true,
    responses: { 201: { description: 'Created, with its signing secret', schema: subscriptionWithSecretSchema } },
    errors: [...bodyErrors],
    handler: async ({ body, requestId }) => {
      const response = await deps.customer.call({ method: 'POST', path: '/api/v1/subscriptions', json: body, requestId });
      return { status: 201, body: response.body };
    },
  });
}

export function makeDemoSubscriptionUpdateRoute(deps: DemoDeps) {
  return defineRoute({
    method: 'patch',
    path: '/demo/subscriptions/:workflow_id',
    operationId: 'demoUpdateSubscription',
    summary: "Change a demo subscription (e.g. `{\"status\": \"disabled\"}`)",
    description: 'Proxies `PATCH /api/v1/subscriptions/{workflow_id}`.',
    tags: ['Demo'],
    auth: 'none',
    params: workflowIdParams,
    body: subscriptionUpdateSchema,
    bodyValidatedByHandler: true,
    responses: { 200: { description: 'The updated subscription', schema: subscriptionSchema } },
    errors: [...bodyErrors],
    handler: async ({ params, body, requestId }) => {
      const workflowId = idFromPath(params.workflow_id, subscriptionNotFound);
      const response = await deps.customer.call({ method: 'PATCH', path: `/api/v1/subscriptions/${workflowId}`, json: body, requestId });
      return { status: 200, body: response.body };
    },
  });
}

export function makeDemoSubscriptionDeleteRoute(deps: DemoDeps) {
  return defineRoute({
    method: 'delete',
    path: '/demo/subscriptions/:workflow_id',
    operationId: 'demoDeleteSubscription',
    summary: 'Delete a demo subscription',
    description: 'Proxies `DELETE /api/v1/subscriptions/{workflow_id}`.',
    tags: ['Demo'],
    auth: 'none',
    params: workflowIdParams,
    responses: { 204: { description: 'Deleted' } },
    errors: ['not_found', 'unavailable'],
    handler: async ({ params, requestId }) => {
      const workflowId = idFromPath(params.workflow_id, subscriptionNotFound);
      await deps.customer.call({ method: 'DELETE', path: `/api/v1/subscriptions/${workflowId}`, requestId });
      return { status: 204 };
    },
  });
}

export function makeDemoSubscriptionRotateSecretRoute(deps: DemoDeps) {
  return defineRoute({
    method: 'post',
    path: '/demo/subscriptions/:workflow_id/rotate-secret',
    operationId: 'demoRotateSubscriptionSecret',
    summary: "Replace a demo subscription's signing secret",
    description: 'Proxies `POST /api/v1/subscriptions/{workflow_id}/rotate-secret`: the new secret is in this answer only.',
    tags: ['Demo'],
    auth: 'none',
    params: workflowIdParams,
    responses: { 200: { description: 'The new secret', schema: rotatedSecretSchema } },
    errors: ['not_found', 'unavailable'],
    handler: async ({ params, requestId }) => {
      const workflowId = idFromPath(params.workflow_id, subscriptionNotFound);
      const response = await deps.customer.call({ method: 'POST', path: `/api/v1/subscriptions/${workflowId}/rotate-secret`, requestId });
      const rotated = response.body as { workflow_id: string; secret: string };
      await deps.customer.noteRotatedSecret(rotated.workflow_id, rotated.secret);
      return { status: 200, body: response.body };
    },
  });
}
