import { z } from 'zod';
import { register } from 'prom-client';
import { defineRoute, type AnyRoute } from './route.ts';
import type { ReadinessCheck } from '../backends.ts';
import { DependencyError, coerceError } from '../errors.ts';

const READY_TIMEOUT_MS = 2000;

async function runCheck(check: ReadinessCheck): Promise<{ name: string; ok: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check.check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), READY_TIMEOUT_MS);
      }),
    ]);
    return { name: check.name, ok: true };
  } catch (error) {
    // The backend's own message names the engine, never a host or credential: adapters wrap errors.
    if (error instanceof DependencyError && error.reason === 'storage_full') return { name: check.name, ok: false, error: 'storage full' };
    return { name: check.name, ok: false, error: coerceError(error).name === 'DependencyError' ? 'unreachable' : 'failed' };
  } finally {
    clearTimeout(timer);
  }
}

/** Liveness, readiness, metrics and the OpenAPI document: on every service. */
export function opsRoutes(options: {
  environment: string;
  readiness: ReadinessCheck[];
  openApi: () => unknown;
  /** More Prometheus text to append (the metrics of the all-in-one's worker thread). */
  extraMetrics?: () => Promise<string>;
}): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/health',
      operationId: 'health',
      summary: 'Liveness (no backend calls)',
      tags: ['Operations'],
      auth: 'none',
      responses: { 200: { description: 'Alive', schema: z.object({ status: z.literal('healthy'), environment: z.string() }) } },
      errors: [],
      handler: () => ({ status: 200, body: { status: 'healthy', environment: options.environment } }),
    }),
    defineRoute({
      method: 'get',
      path: '/ready',
      operationId: 'ready',
      summary: 'Readiness: every configured backend answers',
      tags: ['Operations'],
      auth: 'none',
      responses: {
        200: { description: 'Ready', schema: readySchema },
        503: { description: 'A backend failed; `checks` names it', schema: readySchema },
      },
      errors: [],
      handler: async () => {
        const checks = await Promise.all(options.readiness.map(runCheck));
        const ready = checks.every((c) => c.ok);
        return { status: ready ? 200 : 503, body: { status: ready ? 'ready' : 'unavailable', checks } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/metrics',
      operationId: 'metrics',
      summary: 'Prometheus metrics',
      tags: ['Operations'],
      auth: 'none',
      responses: { 200: { description: 'Prometheus text format', contentType: 'text/plain', schema: z.string() } },
      errors: [],
      handler: async () => {
        const [own, extra] = await Promise.all([register.metrics(), options.extraMetrics?.() ?? Promise.resolve('')]);
        return { status: 200, text: extra ? `${own}\n${extra}` : own, contentType: register.contentType };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/openapi.json',
      operationId: 'openapi',
      summary: 'This OpenAPI 3.1 document',
      tags: ['Operations'],
      auth: 'none',
      responses: { 200: { description: 'OpenAPI 3.1' } },
      errors: [],
      handler: () => ({ status: 200, body: options.openApi() }),
    }),
  ];
}

const readySchema = z.object({
  status: z.enum(['ready', 'unavailable']),
  checks: z.array(z.object({ name: z.string(), ok: z.boolean(), error: z.string().optional() })),
});
