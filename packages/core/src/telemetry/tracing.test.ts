import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { trace } from '@opentelemetry/api';
import { startOtlpReceiver, withEnv, SPAN_KIND, type OtlpReceiver } from '@triggers/testkit';
import { createLogger } from '../log.ts';
import { SpanKind, currentTraceparent, contextFromTraceparent, flushTracing, inSpan, startTracing, stopTracing, tracingConfigured } from './tracing.ts';

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
});
