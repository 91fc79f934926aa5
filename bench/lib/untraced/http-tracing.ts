/** Stub of packages/core/src/telemetry/http-tracing.ts for the untraced build (bench/lib/untraced-build.mjs). */
import type { Request, Response } from 'express';
import type { Context, Span } from '@opentelemetry/api';
import type { Logger } from 'pino';

export const startRequestSpan = (_req: Request): Span | undefined => undefined;
export const endRequestSpan = (_span: Span, _req: Request, _res: Response): void => undefined;
export const requestSpan = (_req: Request): Span | undefined => undefined;
export const requestTraceContext = (_req: Request): Context | undefined => undefined;
export const requestTraceparent = (_req: Request): string | undefined => undefined;
export const requestLogger = (_req: Request, log: Logger): Logger => log;
export const requestTraceLogFields = (_req: Request): { trace_id?: string; span_id?: string } => ({});
