import { context, propagation, trace, INVALID_SPAN_CONTEXT, SpanKind, SpanStatusCode, ROOT_CONTEXT, type Attributes, type Context, type Link, type Span, type Tracer } from '@opentelemetry/api';
import { LeanSpan, LeanTracer, formatTraceparent, parseTraceparent, sdkTracerParts } from './lean-span.ts';
import { createOtlpProtobufExporter, usesDefaultOtlpExporter } from './otlp-exporter.ts';
import { BatchExportProcessor, batchExportSettings } from './batch-export.ts';

/**
 * OpenTelemetry tracing. The SDK (`@opentelemetry/sdk-node`) is configured by the standard
 * `OTEL_*` variables, which it reads itself (the one exception to "only config.ts reads
 * process.env": they are the SDK's contract, not ours). It is started only when a trace exporter
 * is configured; otherwise it is never even loaded, and the spans below are the API's no-ops.
 */

type Env = Record<string, string | undefined>;

interface StartedSdk {
  shutdown(): Promise<void>;
  flush(): Promise<void>;
}

let started: Promise<StartedSdk> | undefined;
/** True while the SDK runs: with it off, the helpers below return before building anything. */
let active = false;
/** The tracer of our spans while the SDK runs: lean spans fed to the SDK's sampler and processor. */
let tracer: Tracer = trace.getTracer('triggers');
/** Whether `tracer` makes lean spans (else the SDK's own, e.g. with span limits set). */
let lean = false;
/** See `w3cPropagatorsOnly`. */
let w3cOnly = true;
/** What `inSpan` hands its work while tracing is off. */
const NO_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** Whether spans are being recorded and exported in this process (or worker thread). */
export function tracingActive(): boolean {
  return active;
}

/**
 * Whether the `OTEL_*` settings ask for traces: not with `OTEL_SDK_DISABLED=true` or
 * `OTEL_TRACES_EXPORTER=none`; yes with another `OTEL_TRACES_EXPORTER` (otlp, console, zipkin) or
 * an OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`).
 */
export function tracingConfigured(env: Env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((s) => s.trim()).filter((s) => s && s !== 'null');
  if (exporters.length > 0) return !exporters.every((e) => e === 'none');
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/**
 * Starts the SDK once per process (or worker thread) when `tracingConfigured(env)`; resolves to
 * whether tracing is on. `serviceName` applies unless `OTEL_SERVICE_NAME` is set. Metrics and logs
 * are not exported through it (Prometheus scrapes /metrics; logs go to stdout with trace ids).
 */
export function startTracing(options: { serviceName: string; env?: Env }): Promise<boolean> {
  const env = options.env ?? process.env;
  // "Not configured" is not remembered: a later call with an exporter (a test) may still start it.
  if (!started && !tracingConfigured(env)) return Promise.resolve(false);
  started ??= (async () => {
    const { NodeSDK } = await import('@opentelemetry/sdk-node');
    // The default exporter (OTLP over HTTP, protobuf): our serializer, behind our batch processor
    // (the SDK's, without the AsyncLocalStorage it runs each export in); any other: the SDK's own.
    const spanProcessors = usesDefaultOtlpExporter(env) ? [new BatchExportProcessor(await createOtlpProtobufExporter(), batchExportSettings(env))] : undefined;
    const sdk = new NodeSDK({
      serviceName: env.OTEL_SERVICE_NAME ? undefined : options.serviceName,
      spanProcessors: spanProcessors as never,
      instrumentations: [],
      metricReaders: [],
      logRecordProcessors: [],
    });
    sdk.start();
    const propagators = (env.OTEL_PROPAGATORS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    w3cOnly = propagators.every((p) => p === 'tracecontext' || p === 'baggage');
    type Provider = { forceFlush?: () => Promise<void>; getTracer?: (name: string) => Tracer };
    const provider = trace.getTracerProvider() as Provider & { getDelegate?: () => Provider };
    const sdkTracer = (provider.getDelegate?.() ?? provider).getTracer?.('triggers') ?? trace.getTracer('triggers');
    const parts = sdkTracerParts(sdkTracer);
    tracer = parts ? new LeanTracer(parts) : sdkTracer;
    lean = parts !== undefined;
    active = true;
    return {
      shutdown: () => sdk.shutdown(),
      flush: async () => {
        const delegate = provider.getDelegate?.() ?? provider;
        await delegate.forceFlush?.();
      },
    };
  })();
  return started.then(() => true);
}

/** Exports the spans ended so far (tests; shutdown does it too). */
export async function flushTracing(): Promise<void> {
  await (await started)?.flush();
}

/** Flushes and stops the SDK; a later `startTracing` may start it again. */
export async function stopTracing(): Promise<void> {
  const sdk = await started;
  started = undefined;
  active = false;
  lean = false;
  w3cOnly = true;
  tracer = trace.getTracer('triggers');
  await sdk?.shutdown();
  if (sdk) {
    trace.disable();
    context.disable();
    propagation.disable();
  }
}

/**
 * Whether incoming requests are read with the W3C trace-context propagator only (plus baggage,
 * which nothing here reads): `OTEL_PROPAGATORS` unset or within `tracecontext,baggage`. Then the
 * request span reads `traceparent` directly; otherwise it asks the configured propagators.
 */
export function w3cPropagatorsOnly(): boolean {
  return w3cOnly;
}

/** Whether our spans are lean spans (tests: an SDK upgrade that breaks them must not go unnoticed). */
export function leanSpansActive(): boolean {
  return active && lean;
}

/**
 * The W3C `traceparent` of the active span, for a queue message or an outgoing request. Written
 * directly (not through the configured propagators: the field is W3C whatever `OTEL_PROPAGATORS`
 * says, and the composite propagator costs a carrier object and a baggage pass per message).
 */
export function currentTraceparent(from?: Context): string | undefined {
  if (!active) return undefined;
  const spanContext = trace.getSpanContext(from ?? context.active());
  return spanContext && trace.isSpanContextValid(spanContext) ? formatTraceparent(spanContext) : undefined;
}

/** The API's key of a context's span (`Symbol.for`: the same key in every copy of the API). */
const SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN');

/**
 * The root context with one span in it — `trace.setSpan(ROOT_CONTEXT, span)` as one small object.
 * The API's `BaseContext` copies a Map and makes three closures for every context (~0.2–0.3 KB;
 * a traced consumer makes one per message); this one reads the same, and any change to it makes
 * a regular context.
 */
class SpanOnlyContext implements Context {
  constructor(private readonly span: Span) {}
  getValue(key: symbol): unknown {
    return key === SPAN_KEY ? this.span : undefined;
  }
  setValue(key: symbol, value: unknown): Context {
    return trace.setSpan(ROOT_CONTEXT, this.span).setValue(key, value);
  }
  deleteValue(key: symbol): Context {
    return key === SPAN_KEY ? ROOT_CONTEXT : this;
  }
}

/** The context a `traceparent` (from a message or a request) continues; the root one without it. */
export function contextFromTraceparent(traceparent: string | undefined, base: Context = ROOT_CONTEXT): Context {
  if (!traceparent || !active) return base;
  const remote = parseTraceparent(traceparent);
  // Another version of the header: the propagator's parser, which accepts later versions.
  return remote ? contextWithSpan(base, trace.wrapSpanContext(remote)) : propagation.extract(base, { traceparent });
}

/** `base` with `span` as its span: over the root context, the small `SpanOnlyContext`. */
function contextWithSpan(base: Context, span: Span): Context {
  return base === ROOT_CONTEXT ? new SpanOnlyContext(span) : trace.setSpan(base, span);
}

/** `trace_id` and `span_id` of the active span, for log lines (empty outside a span). */
export function traceLogFields(): { trace_id?: string; span_id?: string } {
  if (!active) return {};
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId, traceFlags } = span.spanContext();
  if (!traceFlags && !span.isRecording()) return {};
  return { trace_id: traceId, span_id: spanId };
}

export { SpanKind, ROOT_CONTEXT };
export type { Span, Attributes, Context };

/**
 * Runs `work` in a new active span (a child of `parent`, else of the active context) and ends it;
 * an exception marks the span as an error (its type, never its message: messages may hold data).
 * The span takes `attributes` over as its own (no copy): pass a fresh object.
 */
export function inSpan<T>(
  name: string,
  options: { kind: SpanKind; attributes?: Attributes; parent?: Context; links?: Link[] },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  // Not an async function: with tracing off, `work`'s own promise is returned, no extra one.
  if (!active) return work(NO_SPAN);
  return tracer.startActiveSpan(name, options, options.parent ?? context.active(), async (span) => {
    try {
      return await work(span);
    } catch (error) {
      markSpanError(span, error instanceof Error ? error.name : 'Error');
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * Runs `work` in a new span, a child of `parent`, and ends it, like `inSpan`, but without making it
 * the active span: no `context.with`, so no AsyncLocalStorage. Once any `context.with` has run, Node
 * 20's AsyncLocalStorage keeps async hooks on for every promise of the process (~0.4 µs each here),
 * so the hot paths (ingest, the matcher) pass their span on explicitly instead: to child spans as
 * `parent` (`contextOfSpan`), to messages as `traceparentOf(span)`, to log lines as
 * `traceLogFieldsOf(span)`. `work` must not rely on the active context.
 */
export function inSpanPassedOn<T>(
  name: string,
  options: { kind: SpanKind; attributes?: Attributes; parent: Context; links?: Link[] },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  if (!active) return work(NO_SPAN);
  const span = tracer.startSpan(name, options, options.parent);
  return work(span).then(
    (result) => {
      span.end();
      return result;
    },
    (error: unknown) => {
      markSpanError(span, error instanceof Error ? error.name : 'Error');
      span.end();
      throw error;
    },
  );
}

/** The context whose active span is `span` (a parent to pass on); the root one while tracing is off. */
export function contextOfSpan(span: Span | undefined): Context {
  return active && span ? contextWithSpan(ROOT_CONTEXT, span) : ROOT_CONTEXT;
}

/** The W3C `traceparent` of `span` (passed on explicitly: see `inSpanPassedOn`), or undefined. */
export function traceparentOf(span: Span | undefined): string | undefined {
  if (!active || !span) return undefined;
  const spanContext = span.spanContext();
  // A lean span's ids come from the CSPRNG pool, never all zero: valid without the API's two regular expressions.
  return span instanceof LeanSpan || trace.isSpanContextValid(spanContext) ? formatTraceparent(spanContext) : undefined;
}

/** `trace_id` and `span_id` of `span` for a log line written in it without its context active. */
export function traceLogFieldsOf(span: Span | undefined): { trace_id?: string; span_id?: string } {
  if (!active || !span) return {};
  const { traceId, spanId, traceFlags } = span.spanContext();
  if (!traceFlags && !span.isRecording()) return {};
  return { trace_id: traceId, span_id: spanId };
}

/** Runs `work` without a span (what the span helpers do while tracing is off). */
export function untraced<T>(work: (span: Span) => T): T {
  return work(NO_SPAN);
}

/**
 * Starts a span the caller ends (an HTTP request's, when its response closes), not made active; its
 * context, when a child needs one, is `contextOfSpan(span)`. Takes `attributes` over (no copy).
 */
export function startSpan(name: string, options: { kind: SpanKind; attributes?: Attributes; parent: Context }): Span {
  return tracer.startSpan(name, { kind: options.kind, attributes: options.attributes }, options.parent);
}

export function markSpanError(span: Span, errorType: string): void {
  span.setStatus({ code: SpanStatusCode.ERROR });
  span.setAttribute('error.type', errorType);
}

/** OTel `messaging.system` for a queue backend kind. */
export function messagingSystem(queueKind: string): string {
  return queueKind === 'sqs' ? 'aws_sqs' : queueKind;
}
