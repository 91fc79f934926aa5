import type { RequestHandler } from 'express';
import { context, propagation } from '@opentelemetry/api';
import { SpanKind, markSpanError, startSpan, tracingActive } from './tracing.ts';

/** Liveness, readiness, scrapes and the API document: not worth a trace each. */
const UNTRACED = new Set(['/health', '/ready', '/metrics', '/openapi.json']);

/**
 * One SERVER span per API request, continuing the caller's `traceparent` when it sends one, named
 * `<method> <route pattern>` (OTel HTTP semantic conventions: never the raw path's ids as name).
 * Its context is active for the rest of the request, so the enqueue span and the log lines of the
 * handler belong to it. Static files (the console) and the ops routes are not traced. Mounted only
 * while tracing is on (createHttpApp).
 */
export function traceRequests(): RequestHandler {
  return (req, res, next) => {
    const path = req.path;
    if (!tracingActive() || UNTRACED.has(path) || !(path.startsWith('/api/') || path.startsWith('/admin/'))) {
      next();
      return;
    }
    const parent = propagation.extract(context.active(), req.headers);
    const { span, context: active } = startSpan(req.method, {
      kind: SpanKind.SERVER,
      parent,
      attributes: {
        'http.request.method': req.method,
        'url.scheme': req.protocol,
        'url.path': path,
        'server.port': req.socket.localPort,
        'network.protocol.version': req.httpVersion,
      },
    });
    // 'close' follows 'finish' on a completed response, and comes alone on an aborted one.
    res.once('close', () => {
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
    });
    context.with(active, next);
  };
}
