/**
 * `npx tsx bench/ingest-span-cost.ts`: the tracing CPU of one single-event ingest request in two
 * shapes, in one process (so the machine's load weighs on both alike; docs/benchmarks.md, tracing's
 * cost, fourth pass):
 * - `two spans`: the request's SERVER span and a `send events` PRODUCER span under it, whose
 *   `traceparent` the message carries (the shape before the fourth pass);
 * - `one span`: the SERVER span carrying the send's `messaging.*` attributes (`annotateSendOnSpan`),
 *   its own `traceparent` carried (what ingest does now).
 * Both through the real code: the SDK started with the default exporter (lean spans, our batch
 * processor and OTLP/protobuf serializer) posting to a sink in a child process, so serialising and
 * sending are counted, receiving is not. Blocks of each shape alternate, each ends with a flush
 * (its spans exported); CPU (`process.cpuUsage`) per request, median of the blocks.
 */
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { startOtlpSinkProcess } from './lib/otlp-sink.ts';
import { SpanKind, annotateSendOnSpan, contextOfSpan, flushTracing, sendMessagesSpan, startSpan, startTracing, stopTracing, traceparentOf, type Span } from '@triggers/core/runtime';

const BLOCK = 4_000;
const BLOCKS = Number(process.argv[2] ?? 8);

const sink = await startOtlpSinkProcess();
// The SDK and the exporter read process.env themselves.
const env = Object.assign(process.env, { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_SERVICE_NAME: 'ingest-span-cost', OTEL_BSP_MAX_QUEUE_SIZE: String(BLOCK * 2) });
if (!(await startTracing({ serviceName: 'ingest-span-cost', env }))) throw new Error('tracing did not start');

let carried = 0;
const accept = (traceparent: string | undefined) => {
  if (traceparent) carried++;
  return Promise.resolve();
};

/** The request span as the HTTP middleware starts and ends it (attributes as there). */
async function request(i: number, enqueue: (span: Span, ids: Record<string, string>) => Promise<void>): Promise<void> {
  const span = startSpan('POST', {
    kind: SpanKind.SERVER,
    parent: ROOT_CONTEXT,
    attributes: { 'http.request.method': 'POST', 'url.scheme': 'http', 'url.path': '/api/v1/events', 'server.port': 8080, 'network.protocol.version': '1.1' },
  });
  await enqueue(span, { 'triggers.customer_id': 'cus_0190a0b2c3d4e5f6', 'triggers.event_id': `0190a0b2-c3d4-7e5f-8a9b-${String(i).padStart(12, '0')}` });
  span.setAttribute('http.route', '/api/v1/events');
  span.updateName('POST /api/v1/events');
  span.setAttribute('http.response.status_code', 202);
  span.end();
}

const shapes = {
  'two spans': (server: Span, ids: Record<string, string>) => sendMessagesSpan('sqlite', 'events', 1, ids, (span) => accept(traceparentOf(span)), contextOfSpan(server)),
  'one span': (server: Span, ids: Record<string, string>) => accept(annotateSendOnSpan(server, 'sqlite', 'events', 1, ids)),
};

const results: Record<string, number[]> = { 'two spans': [], 'one span': [] };
for (let b = 0; b < BLOCKS + 1; b++) {
  for (const [name, enqueue] of Object.entries(shapes)) {
    const start = process.cpuUsage();
    for (let i = 0; i < BLOCK; i++) await request(i, enqueue);
    await flushTracing();
    const used = process.cpuUsage(start);
    if (b > 0) results[name].push((used.user + used.system) / BLOCK); // block 0: warm-up
  }
}
await stopTracing();
if (carried !== 2 * BLOCK * (BLOCKS + 1)) throw new Error(`${carried} traceparents carried, expected one per request`);
sink.kill();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const two = median(results['two spans']);
const one = median(results['one span']);
process.stdout.write(
  `tracing CPU per single-event ingest request (µs, median of ${BLOCKS} blocks of ${BLOCK}, export included):\n` +
    `  two spans (server + send events): ${two.toFixed(2)}  (blocks: ${results['two spans'].map((x) => x.toFixed(1)).join(', ')})\n` +
    `  one span (server with messaging.*): ${one.toFixed(2)}  (blocks: ${results['one span'].map((x) => x.toFixed(1)).join(', ')})\n` +
    `  saved: ${(two - one).toFixed(2)} µs per request (${(((two - one) / two) * 100).toFixed(1)} %)\n`,
);
