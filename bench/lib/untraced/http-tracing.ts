/** Stub of packages/core/src/telemetry/http-tracing.ts for the untraced build (bench/lib/untraced-build.mjs). */
import type { RequestHandler } from 'express';

export const traceRequests = (): RequestHandler => (_req, _res, next) => next();
