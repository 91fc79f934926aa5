import assert from 'node:assert/strict';
import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type Link, type SpanContext } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { serializeTraceRequest, type ExportableSpan } from './otlp-protobuf.ts';

/** A trace state as the API's (only `serialize` is read). */
const traceState = (value: string) => ({ serialize: () => value }) as unknown as SpanContext['traceState'];

let counter = 0;
function hex(bytes: number): string {
  counter += 1;
  return (counter.toString(16).padStart(4, '0') + 'a1b2c3d4e5f60718293a4b5c6d7e8f90').slice(0, bytes * 2).padEnd(bytes * 2, 'f');
}

const resourceA = { attributes: { 'service.name': 'triggers-test', 'host.name': 'h'.repeat(200), 'process.pid': 4242, 'process.command_args': ['node', '--import', 'x'] } };
const resourceB = { attributes: { 'service.name': 'other' }, schemaUrl: 'https://opentelemetry.io/schemas/1.24.0' };
const scopeA = { name: 'triggers' };
const scopeB = { name: 'other-scope', version: '1.2.3', schemaUrl: 'https://example.test/schema', attributes: { 'scope.attr': true }, droppedAttributesCount: 2 };

function span(overrides: Partial<ExportableSpan> & { context?: Partial<SpanContext> } = {}): ExportableSpan {
  const context: SpanContext = { traceId: hex(16), spanId: hex(8), traceFlags: TraceFlags.SAMPLED, ...overrides.context };
  return {
    name: 'POST /api/v1/events',
    kind: SpanKind.SERVER,
    spanContext: () => context,
    parentSpanContext: undefined,
    startTime: [1_764_700_000, 123_456_789],
    endTime: [1_764_700_000, 987_654_321],
    status: { code: SpanStatusCode.UNSET },
    attributes: { 'http.request.method': 'POST', 'http.response.status_code': 202 },
    links: [],
    events: [],
    resource: resourceA,
    instrumentationScope: scopeA,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
    ...overrides,
  };
}

/** What the SDK's own serializer writes for the same spans. */
function sdkBytes(spans: ExportableSpan[]): Buffer {
  return Buffer.from(ProtobufTraceSerializer.serializeRequest(spans as unknown as Parameters<typeof ProtobufTraceSerializer.serializeRequest>[0])!);
}

function assertSameBytes(spans: ExportableSpan[]): void {
  const ours = Buffer.from(serializeTraceRequest(spans));
  const theirs = sdkBytes(spans);
  assert.equal(theirs.length > 0, spans.length > 0);
  assert.equal(ours.toString('hex'), theirs.toString('hex'));
}

describe('OTLP/protobuf trace serializer (the SDK exporter\'s bytes, cheaper)', () => {
  it('writes the same bytes as the SDK for our spans (server, producer, consumer; remote parent)', () => {
    const server = span();
    const remoteParent: SpanContext = { traceId: server.spanContext().traceId, spanId: hex(8), traceFlags: 1, isRemote: true };
    const consumer = span({
      name: 'process events',
      kind: SpanKind.CONSUMER,
      parentSpanContext: remoteParent,
      context: { traceId: server.spanContext().traceId },
      attributes: { 'messaging.system': 'sqlite', 'messaging.destination.name': 'events', 'messaging.message.id': '12', 'triggers.receive_count': 1 },
    });
    const producer = span({ name: 'send events', kind: SpanKind.PRODUCER, parentSpanContext: server.spanContext(), attributes: { 'triggers.event_id': 'evt_' + hex(8) } });
    assertSameBytes([server, producer, consumer]);
  });

  it('writes the same bytes for every attribute type, events, links, status, trace state and non-ASCII text', () => {
    const attributes: Attributes = {
      ascii: 'plain',
      unicode: 'über 🚀 ναι',
      long: 'x'.repeat(300),
      longUnicode: 'é'.repeat(100),
      huge: 'y'.repeat(20_000), // a three-byte length
      t: true,
      f: false,
      zero: 0,
      int: 42,
      negative: -7,
      big: 2 ** 60,
      beyondInt64: 2 ** 64,
      double: 3.25,
      nan: Number.NaN,
      strings: ['a', 'b', ''],
      numbers: [1, 2.5, -3],
      bools: [true, false],
      empty: [],
      bytes: new Uint8Array([1, 2, 255]) as unknown as string,
      nested: { k: 'v', n: 1, inner: { deep: ['z'] } } as unknown as string,
      missing: undefined,
    };
    const link: Link = { context: { traceId: hex(16), spanId: hex(8), traceFlags: 0, isRemote: true, traceState: traceState('vendor=1') }, attributes: { 'link.n': 3 }, droppedAttributesCount: 1 };
    const s = span({
      name: 'ünïcode name ' + 'n'.repeat(60),
      kind: SpanKind.INTERNAL,
      context: { traceState: traceState('a=1,b=2'), traceFlags: TraceFlags.NONE },
      attributes,
      events: [
        { name: 'exception', attributes: { 'exception.type': 'TypeError' }, time: [1_764_700_001, 5], droppedAttributesCount: 0 },
        { name: 'no attributes', time: [0, 0] },
      ],
      links: [link, { context: { traceId: hex(16), spanId: hex(8), traceFlags: 1 } }],
      status: { code: SpanStatusCode.ERROR, message: 'failed' },
      droppedAttributesCount: 3,
      droppedEventsCount: 130,
      droppedLinksCount: 1,
      startTime: [4_102_444_800, 999_999_999], // year 2100: beyond 2^53 ns
      endTime: [4_102_444_801, 0],
    });
    assertSameBytes([s]);
  });

  it('groups by resource and scope as the SDK does, and grows past its first buffer', () => {
    const spans: ExportableSpan[] = [];
    for (let i = 0; i < 700; i++) {
      spans.push(
        span({
          resource: i % 3 === 0 ? resourceB : resourceA,
          instrumentationScope: i % 2 === 0 ? scopeA : scopeB,
          name: `span ${i % 7}`,
          attributes: { i, text: 'w'.repeat(i % 200), 'triggers.customer_id': `cus_${i}` },
        }),
      );
    }
    assertSameBytes(spans);
  });

  it('writes the same bytes once recurring attribute pairs come from its cache, and for keys whose values start to vary', () => {
    const spans = Array.from({ length: 40 }, (_, i) =>
      span({
        attributes: {
          'http.request.method': i % 3 === 0 ? 'GET' : 'POST',
          'http.response.status_code': 202,
          'url.scheme': 'http',
          'pair.flag': i % 2 === 0,
          'pair.ratio': 0.5,
          'pair.later_varies': i < 20 ? 'same' : `value ${i}`,
          'pair.long': 'l'.repeat(129 + (i % 2)),
          'triggers.event_id': `evt_${hex(8)}`,
        },
      }),
    );
    assertSameBytes(spans); // the first batch fills the cache
    assertSameBytes(spans); // the second is written from it
    assertSameBytes(spans.slice(0, 3));
  });

  it('writes the same bytes for an empty batch', () => {
    assert.equal(Buffer.from(serializeTraceRequest([])).length, 0);
    assertSameBytes([]);
  });
});
