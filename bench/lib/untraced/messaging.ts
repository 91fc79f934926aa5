/** Stub of packages/core/src/telemetry/messaging.ts for the untraced build (bench/lib/untraced-build.mjs). */
import { trace, INVALID_SPAN_CONTEXT, type Span } from '@opentelemetry/api';

const NO_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

export const processMessageSpan = <R>(_kind: string, _topic: string, _message: unknown, _extra: unknown, work: (span: Span) => Promise<R>): Promise<R> => work(NO_SPAN);
export const sendMessagesSpan = <R>(_kind: string | undefined, _topic: string, _count: number, _extra: unknown, work: (span: Span) => Promise<R>): Promise<R> => work(NO_SPAN);
export const annotateSendOnSpan = (_span: unknown, _kind: string | undefined, _topic: string, _count: number, _extra: unknown): string | undefined => undefined;
