import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from '../log.ts';
import { requestTraceLogFields } from '../telemetry/http-tracing.ts';
import { ERROR_CODES, TriggersError, toTriggersError } from '../errors.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The RFC 9457 document for an error. Only curated fields: never a stack, SQL or host name. */
export function problemBody(error: TriggersError): Record<string, unknown> {
  return {
    type: `https://triggers.dev/problems/${error.code.replaceAll('_', '-')}`,
    title: ERROR_CODES[error.code].title,
    status: error.status,
    detail: error.detail,
    code: error.code,
    ...error.extensions,
  };
}

export function sendProblem(res: Response, error: TriggersError): void {
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  res.status(error.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problemBody(error)));
}

/** The one place thrown errors become HTTP responses. 5xx causes are logged, never returned. */
export function problemHandler(log: Logger): ErrorRequestHandler {
  // The request span's ids whether or not its context is active (a route may pass it on instead).
  return (thrown, req, res, _next) => {
    const error = bodyParserError(thrown) ?? toTriggersError(thrown);
    if (error.code === 'unavailable') {
      // A backend outage answers every request with 503; one line each, without a stack.
      const cause = error.cause instanceof Error ? error.cause.message : undefined;
      log.warn({ ...requestTraceLogFields(req), requestId: res.getHeader('x-request-id'), path: req.path, cause }, 'Answered 503: a backend is unavailable');
    } else if (error.status >= 500) {
      log.error({ ...requestTraceLogFields(req), err: error.cause ?? thrown, requestId: res.getHeader('x-request-id'), path: req.path }, 'Failed request');
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendProblem(res, error);
  };
}

/** Errors raised by Express itself (e.g. a malformed URL) carry a status; map the common ones. */
function bodyParserError(thrown: unknown): TriggersError | null {
  if (thrown instanceof TriggersError) return null;
  const status = (thrown as { status?: unknown })?.status;
  if (status === 400) return new TriggersError('invalid_request', { detail: 'The request could not be parsed.' });
  if (status === 413) return new TriggersError('payload_too_large');
  return null;
}
