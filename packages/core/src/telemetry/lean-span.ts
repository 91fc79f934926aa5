import { randomFillSync } from 'node:crypto';
import { preciseWallMs } from '../clock.ts';
import { SpanStatusCode, TraceFlags, context as contextApi, trace, type Attributes, type AttributeValue, type Context, type HrTime, type Link, type Span, type SpanContext, type SpanKind, type SpanOptions, type SpanStatus, type TimeInput, type Tracer } from '@opentelemetry/api';

/**
 * The spans of the hot paths (an API request, a queue message), made without the SDK's per-span
 * machinery. The SDK's `Tracer.startSpan` copies and validates the attributes three times, reads two
 * clocks and makes its ids from `Math.random` through a Buffer: ~4 µs a span on this machine, three
 * spans per ingested event. A `LeanSpan` takes the attribute object it is given (ours: ids, route
 * names, counts — never user input that needs validating), one clock reading and a pooled random
 * id, and is handed to the SDK's own sampler and span processor, so sampling (`OTEL_TRACES_SAMPLER`),
 * batching (`OTEL_BSP_*`) and the exporter (`OTEL_EXPORTER_*`) are the SDK's, configured as usual.
 * It is a `ReadableSpan` (what exporters read), field for field.
 */

/** The parts of the SDK's tracer a lean span needs (its sampler, span processor, resource, scope). */
export interface SdkTracerParts {
  sampler: {
    shouldSample(context: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]): {
      decision: number;
      attributes?: Readonly<Attributes>;
      traceState?: SpanContext['traceState'];
    };
  };
  processor: { onStart(span: never, context: Context): void; onEnd(span: never): void; onEnding?: (span: never) => void };
  resource: unknown;
  scope: { name: string; version?: string; schemaUrl?: string };
}

/** The SDK's sampling decisions (`SamplingDecision` in @opentelemetry/sdk-trace). */
const NOT_RECORD = 0;
const RECORD_AND_SAMPLED = 2;

/**
 * Takes what a lean span needs from the SDK's tracer, or `undefined` when it does not look as
 * expected (another SDK version, span limits set): the caller then keeps the SDK's own spans.
 */
export function sdkTracerParts(sdkTracer: unknown): SdkTracerParts | undefined {
  const t = sdkTracer as {
    _sampler?: SdkTracerParts['sampler'];
    _spanProcessor?: SdkTracerParts['processor'];
    _resource?: unknown;
    _spanLimits?: { attributeValueLengthLimit?: number; attributeCountLimit?: number };
    instrumentationScope?: SdkTracerParts['scope'];
  };
  if (typeof t?._sampler?.shouldSample !== 'function' || typeof t._spanProcessor?.onEnd !== 'function' || typeof t._spanProcessor.onStart !== 'function') return undefined;
  if (!t._resource || !t.instrumentationScope) return undefined;
  // Limits below what our spans carry (OTEL_ATTRIBUTE_*_LIMIT): let the SDK apply them.
  const limits = t._spanLimits ?? {};
  if ((limits.attributeValueLengthLimit ?? Infinity) < 512 || (limits.attributeCountLimit ?? 128) < 32) return undefined;
  return { sampler: t._sampler, processor: t._spanProcessor, resource: t._resource, scope: t.instrumentationScope };
}

// ---------------------------------------------------------------- ids and clock

const ID_POOL_BYTES = 8192;
let idPool = Buffer.alloc(0);
let idOffset = ID_POOL_BYTES;

/** `bytes` random bytes as lowercase hex, from a pool refilled by the CSPRNG 8 KiB at a time. */
function randomHex(bytes: 8 | 16): string {
  for (;;) {
    if (idOffset + bytes > ID_POOL_BYTES) {
      idPool = randomFillSync(Buffer.allocUnsafe(ID_POOL_BYTES));
      idOffset = 0;
    }
    const start = idOffset;
    idOffset += bytes;
    // All-zero ids are invalid (W3C); 2^-64 per span, but never export one.
    for (let i = start; i < start + bytes; i++) if (idPool[i] !== 0) return idPool.toString('hex', start, start + bytes);
  }
}

function toHrTime(ms: number): HrTime {
  const seconds = Math.trunc(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

// ---------------------------------------------------------------- the span

/** A number below this is a `performance.now()` reading, not epoch ms (2001-09-09). */
const EPOCH_MS_FLOOR = 1e12;

const UNSET: SpanStatus = { code: SpanStatusCode.UNSET };
/**
 * What a span holds until it ends, gets a link or an event: shared, frozen (a write throws), replaced
 * rather than changed. Four arrays fewer per span, and a traced request makes one or two spans.
 */
const NOT_ENDED: HrTime = Object.freeze([0, 0]) as unknown as HrTime;
const NO_DURATION: HrTime = Object.freeze([-1, -1]) as unknown as HrTime;
const NO_LINKS: Link[] = Object.freeze([]) as unknown as Link[];
const NO_EVENTS: LeanSpan['events'] = Object.freeze([]) as unknown as LeanSpan['events'];

export class LeanSpan implements Span {
  // ReadableSpan, read by the span processor and the exporters.
  name: string;
  readonly kind: SpanKind;
  readonly parentSpanContext: SpanContext | undefined;
  readonly startTime: HrTime;
  endTime: HrTime = NOT_ENDED;
  status: SpanStatus = UNSET;
  readonly attributes: Attributes;
  links: Link[] = NO_LINKS;
  events: { name: string; attributes?: Attributes; time: HrTime; droppedAttributesCount: number }[] = NO_EVENTS;
  ended = false;
  /** End minus start (the SDK's `[-1, -1]` until the span ends): made when read — our exporter never reads it. */
  get duration(): HrTime {
    return this.endTime === NOT_ENDED ? NO_DURATION : toHrTime(this.endMs - this.startMs);
  }
  // What every lean span of a tracer shares, read from the prototype rather than set on each span.
  get resource(): unknown {
    return this.parts.resource;
  }
  get instrumentationScope(): SdkTracerParts['scope'] {
    return this.parts.scope;
  }
  get droppedAttributesCount(): number {
    return 0;
  }
  get droppedEventsCount(): number {
    return 0;
  }
  get droppedLinksCount(): number {
    return 0;
  }

  /** Wall-clock start (`preciseWallMs`, on Date.now()) and the monotonic reading taken with it. */
  private readonly startMs: number;
  private endMs = 0;
  private readonly startMonotonicMs = performance.now();

  constructor(
    private readonly context: SpanContext,
    name: string,
    kind: SpanKind,
    parent: SpanContext | undefined,
    attributes: Attributes,
    private readonly parts: SdkTracerParts,
    startTime?: TimeInput,
  ) {
    this.name = name;
    this.kind = kind;
    this.parentSpanContext = parent;
    this.attributes = attributes;
    this.startMs = startTime === undefined ? preciseWallMs() : this.timeInputMs(startTime);
    this.startTime = toHrTime(this.startMs);
  }

  /**
   * Epoch ms of a time input. Now, and `performance.now()` values, are placed from the span's own
   * start by the monotonic clock (as the SDK does), so a duration is exact and the span stays on the
   * wall clock however long the process has run.
   */
  private timeInputMs(time: TimeInput | undefined): number {
    if (time === undefined) return this.startMs + (performance.now() - this.startMonotonicMs);
    if (typeof time === 'number') return time < EPOCH_MS_FLOOR ? this.startMs + (time - this.startMonotonicMs) : time;
    if (time instanceof Date) return time.getTime();
    return time[0] * 1000 + time[1] / 1e6;
  }

  spanContext(): SpanContext {
    return this.context;
  }

  isRecording(): boolean {
    return !this.ended;
  }

  setAttribute(key: string, value: AttributeValue | undefined): this {
    if (!this.ended && value != null && key) this.attributes[key] = value;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    for (const key in attributes) this.setAttribute(key, attributes[key]);
    return this;
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.ended) return this;
    const isTime = typeof attributesOrTime === 'number' || attributesOrTime instanceof Date || Array.isArray(attributesOrTime);
    const attributes = isTime ? undefined : (attributesOrTime as Attributes | undefined);
    const at = isTime ? (attributesOrTime as TimeInput) : time;
    if (this.events === NO_EVENTS) this.events = [];
    this.events.push({ name, attributes: attributes ? { ...attributes } : {}, time: toHrTime(this.timeInputMs(at)), droppedAttributesCount: 0 });
    return this;
  }

  addLink(link: Link): this {
    if (this.ended) return this;
    if (this.links === NO_LINKS) this.links = [];
    this.links.push(link);
    return this;
  }

  addLinks(links: Link[]): this {
    for (const link of links) this.addLink(link);
    return this;
  }

  setStatus(status: SpanStatus): this {
    // As the SDK: UNSET changes nothing, OK is final, only an error keeps its message.
    if (this.ended || status.code === SpanStatusCode.UNSET || this.status.code === SpanStatusCode.OK) return this;
    this.status = status.code === SpanStatusCode.ERROR && typeof status.message === 'string' ? { code: status.code, message: status.message } : { code: status.code };
    return this;
  }

  updateName(name: string): this {
    if (!this.ended) this.name = name;
    return this;
  }

  recordException(exception: unknown, time?: TimeInput): void {
    // The type only: messages may hold data.
    const type = exception instanceof Error ? exception.name : typeof exception === 'string' ? 'Error' : String((exception as { name?: unknown })?.name ?? 'Error');
    this.addEvent('exception', { 'exception.type': type }, time);
  }

  end(endTime?: TimeInput): void {
    if (this.ended) return;
    const endMs = Math.max(this.timeInputMs(endTime), this.startMs);
    this.endTime = toHrTime(endMs);
    this.endMs = endMs;
    this.parts.processor.onEnding?.(this as never);
    this.ended = true;
    this.parts.processor.onEnd(this as never);
  }
}

/**
 * A `Tracer` (the API's interface) whose spans are lean spans: the sampler decides first; an
 * unsampled, unrecorded span is the API's non-recording span carrying the ids onward.
 */
export class LeanTracer implements Tracer {
  constructor(private readonly parts: SdkTracerParts) {}

  startSpan(name: string, options: SpanOptions = {}, parentContext?: Context): Span {
    const ctx = parentContext ?? contextApi.active();
    const parent = options.root ? undefined : trace.getSpanContext(ctx);
    const validParent = parent && trace.isSpanContextValid(parent) ? parent : undefined;
    const traceId = validParent ? validParent.traceId : randomHex(16);
    const spanId = randomHex(8);
    const kind = (options.kind ?? 0) as SpanKind;
    const attributes: Attributes = options.attributes ?? {};
    const links = options.links ?? NO_LINKS;
    const sampling = this.parts.sampler.shouldSample(ctx, traceId, name, kind, attributes, links);
    const traceState = sampling.traceState ?? validParent?.traceState;
    const spanContext: SpanContext = { traceId, spanId, traceFlags: sampling.decision === RECORD_AND_SAMPLED ? TraceFlags.SAMPLED : TraceFlags.NONE };
    if (traceState) spanContext.traceState = traceState;
    if (sampling.decision === NOT_RECORD) return trace.wrapSpanContext(spanContext);
    if (sampling.attributes) Object.assign(attributes, sampling.attributes);
    const span = new LeanSpan(spanContext, name, kind, validParent, attributes, this.parts, options.startTime);
    if (links.length > 0) span.addLinks(links);
    this.parts.processor.onStart(span as never, ctx);
    return span;
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, parent: Context, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, a: SpanOptions | F, b?: Context | F, c?: F): ReturnType<F> {
    const fn = (c ?? (typeof b === 'function' ? b : a)) as F;
    const options = typeof a === 'function' ? {} : a;
    const parentContext = typeof b === 'object' ? b : contextApi.active();
    const span = this.startSpan(name, options, parentContext);
    return contextApi.with(trace.setSpan(parentContext, span), fn as (span: Span) => ReturnType<F>, undefined, span);
  }
}

// ---------------------------------------------------------------- W3C traceparent, without the propagator

/** A version-00 `traceparent` is exactly this long: `00-` 32 hex `-` 16 hex `-` 2 hex. */
const TRACEPARENT_LENGTH = 55;
const INVALID_TRACE_ID = '0'.repeat(32);
const INVALID_SPAN_ID = '0'.repeat(16);

/** `00-<trace id>-<span id>-<flags>` of a span context (the `traceparent` our queue messages carry). */
export function formatTraceparent(spanContext: SpanContext): string {
  return `00-${spanContext.traceId}-${spanContext.spanId}-0${spanContext.traceFlags & TraceFlags.SAMPLED}`;
}

/**
 * The remote span context of a version-00 `traceparent` written by `formatTraceparent` (or any
 * W3C version-00 sender), or `undefined` for anything else: the caller then asks the configured
 * propagator, which also knows later versions. Read character by character (every queue message
 * a traced consumer takes passes here): no regular expression, no match array.
 */
export function parseTraceparent(value: string): SpanContext | undefined {
  if (value.length !== TRACEPARENT_LENGTH || value.charCodeAt(0) !== 48 || value.charCodeAt(1) !== 48 || value.charCodeAt(2) !== 45 || value.charCodeAt(35) !== 45 || value.charCodeAt(52) !== 45) return undefined;
  for (let i = 3; i < TRACEPARENT_LENGTH; i++) {
    if (i === 35 || i === 52) continue;
    const c = value.charCodeAt(i);
    // Lower-case hex only, as the W3C version 00 requires.
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return undefined;
  }
  const traceId = value.substring(3, 35);
  const spanId = value.substring(36, 52);
  if (traceId === INVALID_TRACE_ID || spanId === INVALID_SPAN_ID) return undefined;
  return { traceId, spanId, traceFlags: parseInt(value.substring(53, 55), 16), isRemote: true };
}
