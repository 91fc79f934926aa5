import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { trace } from '@opentelemetry/api';
import { startOtlpReceiver, withEnv, SPAN_KIND, type OtlpReceiver } from '@triggers/testkit';
import { createLogger } from '../log.ts';
import { SpanKind, currentTraceparent, contextFromTraceparent, flushTracing, inSpan, leanSpansActive, startTracing, stopTracing, tracingConfigured } from './tracing.ts';
import { formatTraceparent, parseTraceparent } from './lean-span.ts';

function captureLines(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
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
    const { stream, lines } = captureLines();
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
      const { stream, lines } = captureLines();
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
      await inSpan('timed', { kind: SpanKind.INTERNAL, attributes: { 'triggers.n': 1 } }, async (span) => {
        span.setAttribute('triggers.later', 'yes');
        await new Promise((r) => setTimeout(r, 20));
      });
      const after = BigInt(Date.now()) * 1_000_000n;
      await flushTracing();
      const [span] = await receiver.waitForSpans((s) => s.name === 'timed', 1);
      assert.equal(span.service, 'triggers-unit');
      assert.deepEqual(span.attributes, { 'triggers.n': 1, 'triggers.later': 'yes' });
      assert.equal(span.parentSpanId, '');
      const ms = 1_000_000n;
      assert.ok(span.startNanos >= before - 5n * ms && span.endNanos <= after + 5n * ms, `${span.startNanos}..${span.endNanos} within ${before}..${after}`);
      assert.ok(span.endNanos - span.startNanos >= 19n * ms, `lasted ${span.endNanos - span.startNanos} ns`);
    });

    it('continues only a valid traceparent; anything else starts a new trace', async () => {
      const valid = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      for (const bad of [
        '00-00000000000000000000000000000000-b7ad6b7169203331-01', // all-zero trace id
        '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01', // all-zero span id
        'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', // forbidden version
        '00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01', // upper case
        '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331', // no flags
        'garbage',
      ]) {
        assert.equal(parseTraceparent(bad), undefined, bad);
        const continued = await inSpan('x', { kind: SpanKind.CONSUMER, parent: contextFromTraceparent(bad) }, async () => currentTraceparent());
        assert.doesNotMatch(continued ?? '', /0af7651916cd43dd8448eb211c80319c/, bad);
      }
      const remote = parseTraceparent(valid);
      assert.deepEqual(remote, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1, isRemote: true });
      assert.equal(formatTraceparent(remote!), valid);
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
