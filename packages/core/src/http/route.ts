import type { Express, Request, Response } from 'express';
import { z } from 'zod';
import { TriggersError, type ErrorCode } from '../errors.ts';
import type { Customer } from '../domain/customers.ts';
import { stringifyJson } from '../domain/json/json-text.ts';
import { readJsonBody } from './json-body.ts';
import { sendProblem } from './problem.ts';
import { zodIssuesDetail } from './validation.ts';

export type AuthKind = 'api_key' | 'admin' | 'none';
export type HttpMethod = 'get' | 'post' | 'patch' | 'delete';

export interface RouteResult {
  status: number;
  /** JSON-serialised (a JsonText inside as its text) unless `text` is given. */
  body?: unknown;
  /** A non-JSON body, sent as is with `contentType`. */
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
  /** The handler wrote the response itself (a Server-Sent Events stream): nothing more is sent. */
  streamed?: boolean;
}

export interface RouteContext<Q, P, B> {
  req: Request;
  res: Response;
  query: Q;
  params: P;
  body: B;
  /** The raw JSON text of the body (when the route has a body). */
  rawBody: string;
  /** The body as JSON.parse gave it, before the schema (which drops keys such as `__proto__`). */
  json: unknown;
  /** The authenticated customer (api_key routes). */
  customer: Customer;
  requestId: string;
}

export interface DocumentedHeader {
  name: string;
  description: string;
  required?: boolean;
  schema?: z.ZodType;
}

/**
 * One route: its schemas are at once the validator, the OpenAPI description and the TypeScript
 * types of its handler's inputs.
 */
export interface RouteSpec<Q = unknown, P = unknown, B = unknown> {
  method: HttpMethod;
  /** Express syntax: `/api/v1/events/:event_id`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  auth: AuthKind;
  query?: z.ZodType<Q>;
  params?: z.ZodType<P>;
  body?: z.ZodType<B>;
  /** For bodies validated by the handler itself (batch reports per-item errors). */
  bodyValidatedByHandler?: boolean;
  /**
   * A quick check, run before `body`: when it returns true the schema is skipped and the parsed
   * value is the body as is. It must accept only values that `body` accepts and returns unchanged
   * (a hot route's shortcut past the schema's copy of the value; anything else gets the schema
   * and its error messages).
   */
  isPlainValidBody?: (value: unknown) => boolean;
  headers?: DocumentedHeader[];
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string; headers?: DocumentedHeader[] }>;
  errors: ErrorCode[];
  handler: (ctx: RouteContext<Q, P, B>) => Promise<RouteResult> | RouteResult;
}

export function defineRoute<Q = undefined, P = undefined, B = undefined>(spec: RouteSpec<Q, P, B>): RouteSpec<Q, P, B> {
  return spec;
}

export interface Authenticators {
  customer(req: Request): Promise<Customer>;
  admin(req: Request): void;
}

export interface MountOptions {
  auth: Authenticators;
  maxBodyBytes: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRoute = RouteSpec<any, any, any>;

/**
 * Registers the routes on an Express app; every error goes to the app's problem handler. A
 * handler never runs with its request's trace as the active context (no AsyncLocalStorage: see
 * `inSpanPassedOn`): it passes it on itself — `requestTraceContext(req)` to spans and messages,
 * `requestTraceparent(req)` to a message, `requestLogger(req, log)` to its log lines.
 */
export function mountRoutes(app: Express, routes: AnyRoute[], options: MountOptions): void {
  for (const route of routes) {
    app[route.method](route.path, (req, res, next) => {
      runRoute(route, req, res, options).catch(next);
    });
  }
}

async function runRoute(route: AnyRoute, req: Request, res: Response, options: MountOptions): Promise<void> {
  let customer: Customer | undefined;
  if (route.auth === 'api_key') customer = await options.auth.customer(req);
  else if (route.auth === 'admin') options.auth.admin(req);

  const params = route.params ? parseInput(route.params, req.params, 'path') : req.params;
  const query = route.query ? parseInput(route.query, req.query, 'query') : req.query;
  let body: unknown = undefined;
  let rawBody = '';
  let json: unknown = undefined;
  if (route.body || route.bodyValidatedByHandler) {
    const read = await readJsonBody(req, options.maxBodyBytes);
    rawBody = read.raw;
    json = read.value;
    body =
      route.body && !route.bodyValidatedByHandler && !route.isPlainValidBody?.(read.value) ? parseInput(route.body, read.value, 'body') : read.value;
  }
  const result = await route.handler({
    req,
    res,
    query,
    params,
    body,
    rawBody,
    json,
    customer: customer as Customer,
    requestId: String(res.getHeader('x-request-id') ?? ''),
  });
  sendResult(res, result);
}

export function sendResult(res: Response, result: RouteResult): void {
  if (result.streamed) return;
  if (result.headers) for (const [name, value] of Object.entries(result.headers)) res.setHeader(name, value);
  if (result.text !== undefined) {
    res.status(result.status).type(result.contentType ?? 'text/plain').send(result.text);
    return;
  }
  if (result.body === undefined) {
    res.status(result.status).end();
    return;
  }
  const text = stringifyJson(result.body);
  res.statusCode = result.status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

function parseInput<T>(schema: z.ZodType<T>, value: unknown, where: 'path' | 'query' | 'body'): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new TriggersError('invalid_request', { detail: zodIssuesDetail(result.error.issues, where) });
  }
  return result.data;
}

export { sendProblem };
