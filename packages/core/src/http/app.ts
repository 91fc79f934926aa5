import express, { type Express, type Request, type Response } from 'express';
import { Histogram, register } from 'prom-client';
import type { ServiceContext } from '../service-context.ts';
import { TriggersError } from '../errors.ts';
import { requestId } from './request-id.ts';
import { endRequestSpan, startRequestSpan } from '../telemetry/http-tracing.ts';
import { tracingActive, type Span } from '../telemetry/tracing.ts';
import { problemHandler, sendProblem } from './problem.ts';
import { mountRoutes, type AnyRoute } from './route.ts';
import { ApiKeyAuthenticator, checkAdminToken } from './auth.ts';
import { opsRoutes } from './ops-routes.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { AllowedMethods, methodDispatch } from './allowed-methods.ts';

let httpDuration: Histogram | undefined;
function requestDurationMetric(): Histogram {
  httpDuration ??= new Histogram({
    name: 'triggers_http_request_duration_seconds',
    help: 'HTTP request duration by route and status.',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [register],
  });
  return httpDuration;
}

export interface HttpAppOptions {
  routes: AnyRoute[];
  /** Mounted after the API routes and before the 404 handler (the console's static files). */
  extra?: (app: Express) => void;
  /** More Prometheus text for `/metrics` (from a worker thread). */
  extraMetrics?: () => Promise<string>;
}

/**
 * An Express app with the common edges: request ids, the ops routes, authentication,
 * RFC 9457 errors for everything (including unknown routes, and `405` with `Allow` for a known
 * path asked with a method it does not serve), and request metrics.
 */
export function createHttpApp(ctx: ServiceContext, options: HttpAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');

  const duration = requestDurationMetric();
  // Request id and duration metric in one layer: every Express layer costs a router step per request.
  const assignId = requestId();
  const observeDuration = (req: Request, res: Response, started: number) =>
    duration.observe({ method: req.method, route: req.route?.path ?? 'unmatched', status: res.statusCode }, (performance.now() - started) / 1000);
  // With a request span, one listener for the span and the metric: 'close' follows 'finish' on a
  // completed response (observed, as without one), and comes alone on an aborted one (the span ends
  // as an error).
  const edges = (req: Request, res: Response, next: () => void, span: Span | undefined) => {
    const started = performance.now();
    if (span === undefined) {
      res.on('finish', () => observeDuration(req, res, started));
    } else {
      res.on('close', () => {
        if (res.writableFinished) observeDuration(req, res, started);
        endRequestSpan(span, req, res);
      });
    }
    assignId(req, res, next);
  };

  const authenticator = new ApiKeyAuthenticator(ctx.backends.metadataStore, ctx.clock, ctx.config.ingest.apiKeyCacheMs);
  let openApiDocument: unknown;
  const allRoutes: AnyRoute[] = [];
  allRoutes.push(
    ...options.routes,
    ...opsRoutes({
      environment: ctx.config.env,
      readiness: ctx.backends.readiness,
      extraMetrics: options.extraMetrics,
      openApi: () => (openApiDocument ??= buildOpenApiDocument(allRoutes, { title: 'Triggers API', version: '1.0.0' })),
    }),
  );
  const dispatch = methodDispatch(new AllowedMethods(allRoutes));
  // Tracing is started (or not) before the app is made: with it off, no span code at all. Either
  // way one layer: each Express layer costs a router step per request.
  if (tracingActive()) {
    app.use((req, res, next) => edges(req, res, () => dispatch(req, res, next), startRequestSpan(req)));
  } else {
    app.use((req, res, next) => edges(req, res, () => dispatch(req, res, next), undefined));
  }
  mountRoutes(app, allRoutes, {
    maxBodyBytes: ctx.config.ingest.maxPayloadBytes,
    auth: {
      customer: (req) => authenticator.authenticate(req),
      admin: (req) => {
        if (!ctx.adminToken) throw new TriggersError('unauthorized', { detail: 'Admin endpoints are disabled: TRIGGERS_ADMIN_TOKEN is not set.', headers: { 'WWW-Authenticate': 'Bearer' } });
        checkAdminToken(req, ctx.adminToken);
      },
    },
  });
  options.extra?.(app);
  app.use((req, res) => {
    sendProblem(res, new TriggersError('not_found', { detail: `No route for ${req.method} ${req.path}.` }));
  });
  app.use(problemHandler(ctx.log));
  return app;
}
