import type { Socket } from 'node:net';
import type { Request, Response } from 'express';
import { ROOT_CONTEXT, createTraceState, propagation, trace, type Context } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { parseTraceparent } from './lean-span.ts';
import { SpanKind, contextOfSpan, markSpanError, startSpan, traceLogFieldsOf, traceparentOf, tracingActive, w3cPropagatorsOnly, type Span } from './tracing.ts';

/** Liveness, readiness, scrapes and the API document: not worth a trace each. */
const UNTRACED = new Set(['/health', '/ready', '/metrics', '/openapi.json']);

/**
 * Each traced request's SERVER span (its context is made only when a route asks). A WeakMap, not a
 * property on the request: that one more property cost ~1.4 KB of heap per request by V8's
 * allocation sampler (bench/ingest-allocation.sh, docs/benchmarks.md "Eighth pass"); presumably
 * the request's property storage grown, which was not established.
 */
const REQUEST_SPANS = new WeakMap<Request, Span>();
/** A connection's local port, read once (each read of `localPort` asks the kernel). */
const LOCAL_PORT = Symbol('triggers.localPort');

type PortedSocket = Socket & { [LOCAL_PORT]?: number; encrypted?: boolean };

/**
 * Starts the SERVER span of an API request, continuing the caller's `traceparent` when it sends
 * one, and returns it; the caller ends it with `endRequestSpan` when the response closes (one
 * `close` listener for the span and the duration metric: createHttpApp's first layer). Static files
 * (the console) and the ops routes are not traced: undefined, as while tracing is off.
 *
 * The span is never made the active context: every route passes it on explicitly — to spans and
 * messages (`requestSpan`, `requestTraceContext`, `requestTraceparent`), to its log lines
 * (`requestLogger`) — so no AsyncLocalStorage ever runs for a request (see `inSpanPassedOn`).
 */
export function startRequestSpan(req: Request): Span | undefined {
  const path = req.path;
  if (!tracingActive() || UNTRACED.has(path) || !(path.startsWith('/api/') || path.startsWith('/admin/'))) return undefined;
  const socket = req.socket as PortedSocket;
  const span = startSpan(req.method, {
    kind: SpanKind.SERVER,
    parent: callerContext(req),
    attributes: {
      'http.request.method': req.method,
      // Express's `req.protocol` would also read the peer address (trust proxy is never set here).
      'url.scheme': socket.encrypted ? 'https' : 'http',
      'url.path': path,
      'server.port': (socket[LOCAL_PORT] ??= socket.localPort),
      'network.protocol.version': req.httpVersion,
    },
  });
  REQUEST_SPANS.set(req, span);
  return span;
}

/**
 * Ends a request's SERVER span when its response closes: named `<method> <route pattern>` once
 * routed (OTel HTTP semantic conventions: never the raw path's ids as name), with the status; an
 * error on a 5xx, or when the response was aborted ('close' without 'finish').
 */
export function endRequestSpan(span: Span, req: Request, res: Response): void {
  if (!res.writableFinished) {
    markSpanError(span, 'aborted');
  } else {
    const route = req.route?.path as string | undefined;
    if (route) {
      span.setAttribute('http.route', route);
      span.updateName(`${req.method} ${route}`);
    }
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) markSpanError(span, String(res.statusCode));
  }
  span.end();
}

/**
 * The context the caller's headers continue. With the default propagators (W3C trace context and
 * baggage) `traceparent`/`tracestate` are read directly — baggage is read by nothing here; other
 * `OTEL_PROPAGATORS`, or a `traceparent` of another version, go through the propagator API.
 */
function callerContext(req: Request): Context {
  if (!w3cPropagatorsOnly()) return propagation.extract(ROOT_CONTEXT, req.headers);
  const header = req.headers.traceparent;
  if (header === undefined) return ROOT_CONTEXT;
  const remote = typeof header === 'string' ? parseTraceparent(header) : undefined;
  if (!remote) return propagation.extract(ROOT_CONTEXT, req.headers);
  const state = req.headers.tracestate;
  if (state) remote.traceState = createTraceState(Array.isArray(state) ? state.join(',') : state);
  return trace.setSpanContext(ROOT_CONTEXT, remote);
}

/** The SERVER span of a traced request, to pass on; undefined if untraced. */
export function requestSpan(req: Request): Span | undefined {
  // While tracing is off no request has one: not even the WeakMap's lookup.
  return tracingActive() ? REQUEST_SPANS.get(req) : undefined;
}

/** The trace context of a traced request (its SERVER span's), to pass on as a parent; undefined if untraced. */
export function requestTraceContext(req: Request): Context | undefined {
  const span = requestSpan(req);
  return span ? contextOfSpan(span) : undefined;
}

/** The W3C `traceparent` of a traced request's SERVER span (for the messages it sends); undefined if untraced. */
export function requestTraceparent(req: Request): string | undefined {
  return traceparentOf(requestSpan(req));
}

/**
 * `log` for the lines a route writes while handling `req`: a child carrying the request span's
 * `trace_id`/`span_id` when the request is traced (its context is never active, so the logger's
 * mixin cannot see it), else `log` itself.
 */
export function requestLogger(req: Request, log: Logger): Logger {
  const fields = requestTraceLogFields(req);
  return fields.trace_id ? log.child(fields) : log;
}

/** `trace_id`/`span_id` of a traced request's SERVER span, for its log lines (whatever is active). */
export function requestTraceLogFields(req: Request): { trace_id?: string; span_id?: string } {
  const span = requestSpan(req);
  return span ? traceLogFieldsOf(span) : {};
}
