import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import express from 'express';
import { captureJsonLines, countContextWithCalls, startOtlpReceiver, waitUntil, withEnv, SPAN_KIND, type OtlpReceiver } from '@triggers/testkit';
import { createLogger } from '../log.ts';
import { SpanKind, currentTraceparent, contextFromTraceparent, contextOfSpan, flushTracing, inSpan, inSpanPassedOn, leanSpansActive, startTracing, stopTracing, traceLogFieldsOf, traceparentOf, tracingConfigured } from './tracing.ts';
import { processMessageSpan, sendMessagesSpan } from './messaging.ts';
import { endRequestSpan, requestLogger, requestTraceContext, requestTraceparent, startRequestSpan } from './http-tracing.ts';
import { defineRoute, mountRoutes } from '../http/route.ts';
import { usesDefaultOtlpExporter } from './otlp-exporter.ts';
import { formatTraceparent, parseTraceparent } from './lean-span.ts';

/** The fields of a protobuf message (wire format): field number → raw values (Buffers for length-delimited fields). */
function protoFields(bytes: Buffer): Map<number, (Buffer | number)[]> {
  const fields = new Map<number, (Buffer | number)[]>();
  let pos = 0;
  const varint = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[pos++];
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
    }
  };
  while (pos < bytes.length) {
    const key = varint();
    const wire = key & 7;
    let value: Buffer | number;
    if (wire === 0) value = varint();
    else if (wire === 1) (value = bytes.readDoubleLE(pos)), (pos += 8);
    else if (wire === 5) (value = bytes.readUInt32LE(pos)), (pos += 4);
    else if (wire === 2) {
      const n = varint();
      value = bytes.subarray(pos, pos + n);
      pos += n;
    } else throw new Error(`wire type ${wire}`);
    const list = fields.get(key >>> 3) ?? [];
    list.push(value);
    fields.set(key >>> 3, list);
  }
  return fields;
}

describe('Tracing (OpenTelemetry SDK from the OTEL_* settings)', function () {
  describe('whether an exporter is configured', () => {
    const cases: [Record<string, string>, boolean][] = [
      [{}, false],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, true],
      [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }, true],
      [{ OTEL_TRACES_EXPORTER: 'console' }, true],
      [{ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, false],
      [{ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, false],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }, false],
    ];
    for (const [env, expected] of cases) {
      it(`${JSON.stringify(env)} → ${expected ? 'started' : 'not started'}`, () => assert.equal(tracingConfigured(env), expected));
    }
  });

  it('without an exporter the SDK is not started: spans are no-ops, no traceparent, no ids in logs', async () => {
    assert.equal(await startTracing({ serviceName: 'test', env: {} }), false);
    const { stream, lines } = captureJsonLines();
    const log = createLogger({ level: 'info', service: 'test', destination: stream });
    await inSpan('work', { kind: SpanKind.INTERNAL }, async (span) => {
      assert.equal(span.isRecording(), false);
      assert.equal(currentTraceparent(), undefined);
      log.info('Did something');
    });
    assert.equal(lines()[0].trace_id, undefined);
    await stopTracing();
  });

  describe('with an OTLP/HTTP JSON exporter', () => {
    let receiver: OtlpReceiver;
    let restoreEnv: () => void;
    before(async () => {
      receiver = await startOtlpReceiver();
      // A service context started earlier in the process without OTEL_* must not keep it off.
      assert.equal(await startTracing({ serviceName: 'earlier', env: {} }), false);
      restoreEnv = withEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '50' });
      assert.equal(await startTracing({ serviceName: 'triggers-unit' }), true);
    });
    after(async () => {
      await stopTracing();
      restoreEnv();
      await receiver.close();
    });

    it('exports spans with their service name, and continues a traceparent', async () => {
      const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      const traceparent = await inSpan('consume', { kind: SpanKind.CONSUMER, parent: contextFromTraceparent(parent), attributes: { 'triggers.event_id': 'e1' } }, async () => currentTraceparent());
      assert.match(traceparent ?? '', /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
      await flushTracing();
      const [span] = await receiver.waitForSpans((s) => s.name === 'consume', 1);
      assert.equal(span.traceId, '0af7651916cd43dd8448eb211c80319c');
      assert.equal(span.parentSpanId, 'b7ad6b7169203331');
      assert.equal(span.kind, SPAN_KIND.consumer);
      assert.equal(span.service, 'triggers-unit');
      assert.equal(span.attributes['triggers.event_id'], 'e1');
      assert.equal(traceparent, `00-${span.traceId}-${span.spanId}-01`);
    });

    it('every log line written inside a span carries its trace_id and span_id; lines outside carry none', async () => {
      const { stream, lines } = captureJsonLines();
      const log = createLogger({ level: 'info', service: 'test', destination: stream }).child({ component: 'child' });
      log.info('Before');
      const ids = await inSpan('outer', { kind: SpanKind.INTERNAL }, async (outer) => {
        log.info('In outer');
        await new Promise((r) => setTimeout(r, 5)); // across an await
        const inner = await inSpan('inner', { kind: SpanKind.INTERNAL }, async (span) => {
          log.warn('In inner');
          return span.spanContext();
        });
        return { outer: outer.spanContext(), inner };
      });
      log.info('After');
      const [before, inOuter, inInner, after] = lines();
      assert.equal(before.trace_id, undefined);
      assert.equal(after.trace_id, undefined);
      assert.deepEqual([inOuter.trace_id, inOuter.span_id], [ids.outer.traceId, ids.outer.spanId]);
      assert.deepEqual([inInner.trace_id, inInner.span_id], [ids.inner.traceId, ids.inner.spanId]);
      assert.equal(trace.getActiveSpan(), undefined);
    });

    it('our spans are lean spans handed to the SDK: its resource, its exporter, their own clock readings', async () => {
      assert.equal(leanSpansActive(), true, 'the SDK tracer has the parts a lean span needs (an SDK upgrade must keep them, or this fails)');
      const before = BigInt(Date.now()) * 1_000_000n;
      // What the SDK's processors and exporters read of a finished span (ReadableSpan).
      type Readable = { duration: [number, number]; startTime: [number, number]; endTime: [number, number]; resource: { attributes: Record<string, unknown> }; instrumentationScope: { name: string }; droppedAttributesCount: number; droppedEventsCount: number; droppedLinksCount: number };
      let timed: Readable | undefined;
      await inSpan('timed', { kind: SpanKind.INTERNAL, attributes: { 'triggers.n': 1 } }, async (span) => {
        timed = span as unknown as Readable;
        assert.deepEqual(timed.duration, [-1, -1], 'no duration before the end');
        span.setAttribute('triggers.later', 'yes');
        await new Promise((r) => setTimeout(r, 20));
      });
      const after = BigInt(Date.now()) * 1_000_000n;
      const nanos = ([s, n]: [number, number]) => s * 1e9 + n;
      assert.ok(Math.abs(nanos(timed!.duration) - (nanos(timed!.endTime) - nanos(timed!.startTime))) < 1000, `duration ${timed!.duration}`);
      assert.equal(timed!.resource.attributes['service.name'], 'triggers-unit');
      assert.equal(timed!.instrumentationScope.name, 'triggers');
      assert.deepEqual([timed!.droppedAttributesCount, timed!.droppedEventsCount, timed!.droppedLinksCount], [0, 0, 0]);
      await flushTracing();
      const [span] = await receiver.waitForSpans((s) => s.name === 'timed', 1);
      assert.equal(span.service, 'triggers-unit');
      assert.deepEqual(span.attributes, { 'triggers.n': 1, 'triggers.later': 'yes' });
      assert.equal(span.parentSpanId, '');
      const ms = 1_000_000n;
      assert.ok(span.startNanos >= before - 5n * ms && span.endNanos <= after + 5n * ms, `${span.startNanos}..${span.endNanos} within ${before}..${after}`);
      assert.ok(span.endNanos - span.startNanos >= 19n * ms, `lasted ${span.endNanos - span.startNanos} ns`);
    });

    it('the context of a span (and of a message\'s traceparent) reads and changes as the API\'s own', async () => {
      await inSpanPassedOn('holder', { kind: SpanKind.INTERNAL, parent: ROOT_CONTEXT }, async (span) => {
        const ours = contextOfSpan(span);
        const theirs = trace.setSpan(ROOT_CONTEXT, span);
        assert.equal(trace.getSpan(ours), span);
        // The same key as the API's: a context the API made reads the same through it.
        assert.equal(ours.getValue(Symbol.for('OpenTelemetry Context Key SPAN')), theirs.getValue(Symbol.for('OpenTelemetry Context Key SPAN')));
        const key = Symbol('k');
        const changed = ours.setValue(key, 42);
        assert.equal(changed.getValue(key), 42);
        assert.equal(trace.getSpan(changed), span);
        assert.equal(ours.getValue(key), undefined, 'setValue makes a new context');
        assert.equal(trace.getSpan(trace.deleteSpan(ours)), undefined);
        assert.equal(ours.deleteValue(key), ours);
        // A child continues the span's trace.
        const child = trace.getTracer('t').startSpan('child', {}, ours);
        assert.equal(child.spanContext().traceId, span.spanContext().traceId);
        child.end();
      });
      const remote = contextFromTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
      assert.deepEqual(trace.getSpanContext(remote), { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1, isRemote: true });
      const base = ROOT_CONTEXT.setValue(Symbol('other'), 1);
      const onBase = contextFromTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', base);
      assert.equal(trace.getSpanContext(onBase)?.spanId, 'b7ad6b7169203331');
    });

    it('continues only a valid traceparent; anything else starts a new trace', async () => {
      const valid = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      for (const bad of [
        '00-00000000000000000000000000000000-b7ad6b7169203331-01', // all-zero trace id
        '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01', // all-zero span id
        'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', // forbidden version
        '00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01', // upper case
        '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331', // no flags
        '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0g', // flags not hex
        '00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', // wrong separator
        '00-0af7651916cd43dd8448eb211c80319cb-7ad6b7169203331-01', // separator out of place
        'garbage',
      ]) {
        assert.equal(parseTraceparent(bad), undefined, bad);
        const continued = await inSpan('x', { kind: SpanKind.CONSUMER, parent: contextFromTraceparent(bad) }, async () => currentTraceparent());
        assert.doesNotMatch(continued ?? '', /0af7651916cd43dd8448eb211c80319c/, bad);
      }
      const remote = parseTraceparent(valid);
      assert.deepEqual(remote, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1, isRemote: true });
      assert.equal(formatTraceparent(remote!), valid);
      assert.deepEqual(parseTraceparent(valid.replace(/01$/, '00')), { ...remote, traceFlags: 0 });
      // Anything after the flags is not version 00 as written: left to the propagator (which trims whitespace).
      assert.equal(parseTraceparent(`${valid}\n`), undefined);
      // A later version's header (more fields) goes to the propagator, which accepts it.
      const v1 = await inSpan('y', { kind: SpanKind.CONSUMER, parent: contextFromTraceparent('01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-later') }, async () => currentTraceparent());
      assert.match(v1 ?? '', /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    });

    it('marks a span whose work throws as an error, by the error\'s type only', async () => {
      await assert.rejects(inSpan('failing', { kind: SpanKind.INTERNAL }, async () => {
        throw new TypeError('secret detail');
      }));
      await flushTracing();
      const [span] = await receiver.waitForSpans((s) => s.name === 'failing', 1);
      assert.equal(span.statusCode, 2);
      assert.equal(span.attributes['error.type'], 'TypeError');
      assert.ok(!receiver.bodies.some((b) => b.includes('secret detail')));
    });
  });

  describe('which exporter is ours (OTLP/HTTP protobuf, the default) and which the SDK builds', () => {
    const cases: [Record<string, string>, boolean][] = [
      [{}, true],
      [{ OTEL_TRACES_EXPORTER: 'otlp' }, true],
      [{ OTEL_TRACES_EXPORTER: 'otlp,otlp' }, true],
      [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }, true],
      [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, false],
      [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, false],
      [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' }, true],
      [{ OTEL_TRACES_EXPORTER: 'console' }, false],
      [{ OTEL_TRACES_EXPORTER: 'otlp,zipkin' }, false],
    ];
    for (const [env, expected] of cases) {
      it(`${JSON.stringify(env)} → ${expected ? 'ours' : "the SDK's"}`, () => assert.equal(usesDefaultOtlpExporter(env), expected));
    }
  });

  describe('with the default exporter (OTLP/HTTP protobuf, our serializer)', () => {
    let server: http.Server;
    const requests: { path?: string; contentType?: string; tenant?: string | string[]; body: Buffer }[] = [];
    let restoreEnv: () => void;
    before(async () => {
      server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          requests.push({ path: req.url, contentType: req.headers['content-type'], tenant: req.headers['x-tenant'], body: Buffer.concat(chunks) });
          res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      restoreEnv = withEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=t1', OTEL_BSP_SCHEDULE_DELAY: '50' });
      assert.equal(await startTracing({ serviceName: 'triggers-proto' }), true);
    });
    after(async () => {
      await stopTracing();
      restoreEnv();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it('posts protobuf (with OTEL_EXPORTER_OTLP_HEADERS) to <endpoint>/v1/traces that decodes to our spans, their ids and attributes', async () => {
      assert.equal(leanSpansActive(), true);
      const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      const traceparent = await inSpan('proto span', { kind: SpanKind.PRODUCER, parent: contextFromTraceparent(parent), attributes: { 'triggers.event_id': 'evt_1', 'triggers.n': 7 } }, async () => currentTraceparent());
      await flushTracing();
      assert.ok(requests.length > 0, 'an export arrived');
      assert.ok(requests.every((r) => r.path === '/v1/traces' && r.contentType === 'application/x-protobuf' && r.tenant === 't1'), JSON.stringify(requests.map((r) => [r.path, r.contentType, r.tenant])));
      const spans = requests.flatMap((r) =>
        (protoFields(r.body).get(1) ?? []).flatMap((rs) => {
          const resource = protoFields(protoFields(rs as Buffer).get(1)![0] as Buffer);
          const service = (resource.get(1) ?? []).map((kv) => protoFields(kv as Buffer)).find((kv) => (kv.get(1)![0] as Buffer).toString() === 'service.name');
          return (protoFields(rs as Buffer).get(2) ?? []).flatMap((ss) => (protoFields(ss as Buffer).get(2) ?? []).map((sp) => ({ service, span: protoFields(sp as Buffer) })));
        }),
      );
      const found = spans.find(({ span }) => (span.get(5)![0] as Buffer).toString() === 'proto span');
      assert.ok(found, `span names: ${spans.map(({ span }) => String(span.get(5)![0])).join(', ')}`);
      const { span, service } = found;
      assert.equal((span.get(1)![0] as Buffer).toString('hex'), '0af7651916cd43dd8448eb211c80319c');
      assert.equal((span.get(4)![0] as Buffer).toString('hex'), 'b7ad6b7169203331');
      assert.equal(traceparent, `00-0af7651916cd43dd8448eb211c80319c-${(span.get(2)![0] as Buffer).toString('hex')}-01`);
      assert.equal(span.get(6)![0], SpanKind.PRODUCER + 1);
      const attributes = Object.fromEntries((span.get(9) ?? []).map((kv) => {
        const f = protoFields(kv as Buffer);
        const value = protoFields(f.get(2)![0] as Buffer);
        return [(f.get(1)![0] as Buffer).toString(), value.has(1) ? (value.get(1)![0] as Buffer).toString() : value.get(3)![0]];
      }));
      assert.deepEqual(attributes, { 'triggers.event_id': 'evt_1', 'triggers.n': 7 });
      assert.equal((protoFields(service!.get(2)![0] as Buffer).get(1)![0] as Buffer).toString(), 'triggers-proto');
    });

    it('exports without context.with (no AsyncLocalStorage, whose first use turns async hooks on for every promise), batching by OTEL_BSP_*', async () => {
      const withCalls = await countContextWithCalls(async () => {
        const before = requests.length;
        await inSpanPassedOn('not active', { kind: SpanKind.INTERNAL, parent: contextFromTraceparent(undefined) }, async (span) => {
          await inSpanPassedOn('child', { kind: SpanKind.INTERNAL, parent: contextOfSpan(span) }, async () => undefined);
        });
        // OTEL_BSP_SCHEDULE_DELAY is 50 ms here: the batch goes out by itself.
        await waitUntil(async () => requests.length > before, { timeoutMs: 5000, what: 'the scheduled export' });
        await flushTracing();
      });
      assert.equal(withCalls, 0);
    });

    it('a routed request, its enqueue and the message\'s processing make no context.with either; the route\'s log lines carry its span\'s ids', async () => {
      const { stream, lines } = captureJsonLines();
      const log = createLogger({ level: 'info', service: 'test', destination: stream });
      const app = express();
      app.use((req, res, next) => {
        const span = startRequestSpan(req);
        if (span) res.on('close', () => endRequestSpan(span, req, res));
        next();
      });
      // As every route is mounted (the ingest routes and all the others alike).
      const route = defineRoute({
        method: 'post',
        path: '/api/v1/things',
        operationId: 'makeThing',
        summary: 'A traced route',
        tags: ['Test'],
        auth: 'none',
        responses: { 200: { description: 'Done' } },
        errors: [],
        handler: async ({ req }) => {
          requestLogger(req, log).info('Handled a thing');
          const sent = await sendMessagesSpan('sqlite', 'events', 1, { 'triggers.event_id': 'evt_2' }, async (span) => traceparentOf(span), requestTraceContext(req) ?? ROOT_CONTEXT);
          const message = { id: 'm1', receipt: 'r1', receiveCount: 1, enqueuedAt: 0, body: { traceparent: sent } };
          await processMessageSpan('sqlite', 'events', message, {}, async (span) => log.info(traceLogFieldsOf(span), 'Processed a thing'));
          return { status: 200, body: { request: requestTraceparent(req), sent } };
        },
      });
      mountRoutes(app, [route], { auth: { customer: async () => assert.fail('no customer auth'), admin: () => undefined }, maxBodyBytes: 1024 });
      const listener = http.createServer(app);
      await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
      try {
        let answer: { request: string; sent: string } | undefined;
        const withCalls = await countContextWithCalls(async () => {
          const response = await fetch(`http://127.0.0.1:${(listener.address() as AddressInfo).port}/api/v1/things`, { method: 'POST' });
          assert.equal(response.status, 200);
          answer = (await response.json()) as { request: string; sent: string };
          await flushTracing();
        });
        assert.equal(withCalls, 0, 'no context.with for a routed request');
        const request = parseTraceparent(answer!.request)!;
        const sent = parseTraceparent(answer!.sent)!;
        assert.equal(sent.traceId, request.traceId, 'the enqueue continues the request\'s trace');
        const [handled, processed] = lines();
        assert.deepEqual([handled.msg, handled.trace_id, handled.span_id], ['Handled a thing', request.traceId, request.spanId]);
        assert.equal(processed.msg, 'Processed a thing');
        assert.equal(processed.trace_id, request.traceId, 'the message\'s processing continues the trace');
        assert.notEqual(processed.span_id, sent.spanId);
      } finally {
        listener.closeAllConnections();
        await new Promise((resolve) => listener.close(resolve));
      }
    });
  });

  describe('with OTEL_TRACES_SAMPLER=parentbased_traceidratio and ratio 0 (the SDK\'s sampler decides for our spans)', () => {
    let receiver: OtlpReceiver;
    let restoreEnv: () => void;
    before(async () => {
      receiver = await startOtlpReceiver();
      restoreEnv = withEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '50',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0',
      });
      assert.equal(await startTracing({ serviceName: 'triggers-sampled' }), true);
    });
    after(async () => {
      await stopTracing();
      restoreEnv();
      await receiver.close();
    });

    it('a new trace is not sampled: not recorded, not exported, its traceparent says so', async () => {
      const traceparent = await inSpan('unsampled', { kind: SpanKind.INTERNAL }, async (span) => {
        assert.equal(span.isRecording(), false);
        return currentTraceparent();
      });
      assert.match(traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/, 'the ids travel on, marked not sampled');
      // A sampled parent is followed (parent-based): that span is exported, the other is not.
      await inSpan('follows-parent', { kind: SpanKind.CONSUMER, parent: contextFromTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01') }, async (span) => {
        assert.equal(span.isRecording(), true);
      });
      await flushTracing();
      await receiver.waitForSpans((s) => s.name === 'follows-parent', 1);
      assert.deepEqual(receiver.spans.map((s) => s.name), ['follows-parent']);
    });
  });
});
