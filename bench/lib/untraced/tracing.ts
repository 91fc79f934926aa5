/** Stub of packages/core/src/telemetry/tracing.ts for the untraced build (bench/lib/untraced-build.mjs). */
import { trace, INVALID_SPAN_CONTEXT, SpanKind, ROOT_CONTEXT, type Attributes, type Context, type Span } from '@opentelemetry/api';

const NO_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

export const tracingActive = (): boolean => false;
export const leanSpansActive = (): boolean => false;
export const tracingConfigured = (_env: Record<string, string | undefined>): boolean => false;
export const startTracing = async (_options: { serviceName: string }): Promise<boolean> => false;
export const flushTracing = async (): Promise<void> => undefined;
export const stopTracing = async (): Promise<void> => undefined;
export const currentTraceparent = (_from?: Context): string | undefined => undefined;
export const contextFromTraceparent = (_traceparent: string | undefined, base: Context = ROOT_CONTEXT): Context => base;
export const traceLogFields = (): { trace_id?: string; span_id?: string } => ({});
export const inSpan = <T>(_name: string, _options: unknown, work: (span: Span) => Promise<T>): Promise<T> => work(NO_SPAN);
export const inSpanPassedOn = <T>(_name: string, _options: unknown, work: (span: Span) => Promise<T>): Promise<T> => work(NO_SPAN);
export const contextOfSpan = (_span: Span | undefined): Context => ROOT_CONTEXT;
export const traceparentOf = (_span: Span | undefined): string | undefined => undefined;
export const traceLogFieldsOf = (_span: Span | undefined): { trace_id?: string; span_id?: string } => ({});
export const w3cPropagatorsOnly = (): boolean => true;
export const untraced = <T>(work: (span: Span) => T): T => work(NO_SPAN);
export const startSpan = (_name: string, _options: { parent: Context }): Span => NO_SPAN;
export const markSpanError = (_span: Span, _errorType: string): void => undefined;
export const messagingSystem = (queueKind: string): string => queueKind;
export { SpanKind, ROOT_CONTEXT };
export type { Span, Attributes, Context };
