/**
 * `@triggers/core/http`: one spec object per route (validator, OpenAPI and handler type at once),
 * the app every service mounts its routes on, and the shared request/response pieces.
 */
export * from './route.ts';
export * from './app.ts';
export * from './allowed-methods.ts';
export * from './auth.ts';
export * from './json-body.ts';
export * from './openapi.ts';
export * from './ops-routes.ts';
export * from './problem.ts';
export * from './request-id.ts';
export * from './schemas.ts';
export * from './validation.ts';
export { requestLogger, requestSpan, requestTraceContext, requestTraceparent } from '../telemetry/http-tracing.ts';
