import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local OTLP/HTTP trace receiver for tests: accepts `POST /v1/traces` in OTLP JSON
 * (`OTEL_EXPORTER_OTLP_PROTOCOL=http/json`), decodes every span and keeps it, with the raw bodies
 * (to check what never appears in them: payloads, secrets, keys).
 */

export type AttributeValue = string | number | boolean | null;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, AttributeValue>;
  /** 0 unset, 1 ok, 2 error. */
  statusCode: number;
  /** The resource's `service.name`. */
  service: string;
  startNanos: bigint;
  endNanos: bigint;
}

export const SPAN_KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

export interface OtlpReceiver {
  /** `http://127.0.0.1:<port>`: the value of `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  readonly url: string;
  readonly spans: readonly ReceivedSpan[];
  /** Every request body as received. */
  readonly bodies: readonly string[];
  /** The spans of one trace once `done(spans)` holds; rejects after `timeoutMs`. */
  waitForTrace(traceId: string, done: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  /** Spans matching `match` once `count` of them arrived. */
  waitForSpans(match: (span: ReceivedSpan) => boolean, count: number, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

function decodeValue(value: any): AttributeValue {
  if (value === undefined || value === null) return null;
  if ('stringValue' in value) return value.stringValue;
  if ('intValue' in value) return Number(value.intValue);
  if ('doubleValue' in value) return Number(value.doubleValue);
  if ('boolValue' in value) return value.boolValue;
  return JSON.stringify(value);
}

function attributesOf(list: any[] | undefined): Record<string, AttributeValue> {
  return Object.fromEntries((list ?? []).map((a: any) => [a.key, decodeValue(a.value)]));
}

/** OTLP JSON carries ids as hex; accept base64 too (protobuf-JSON mapping). */
function hexId(id: string | undefined): string {
  if (!id) return '';
  return /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const bodies: string[] = [];
  const waiters = new Set<() => void>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
        res.writeHead(415).end();
        return;
      }
      const text = Buffer.concat(chunks).toString('utf8');
      bodies.push(text);
      const body = JSON.parse(text);
      for (const resourceSpans of body.resourceSpans ?? []) {
        const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name'] ?? '');
        for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
          for (const s of scopeSpans.spans ?? []) {
            spans.push({
              traceId: hexId(s.traceId),
              spanId: hexId(s.spanId),
              parentSpanId: hexId(s.parentSpanId),
              name: s.name,
              kind: s.kind,
              attributes: attributesOf(s.attributes),
              statusCode: s.status?.code ?? 0,
              service,
              startNanos: BigInt(s.startTimeUnixNano ?? 0),
              endNanos: BigInt(s.endTimeUnixNano ?? 0),
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      for (const wake of waiters) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const waitUntil = <T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const attempt = () => {
        const found = check();
        if (found === undefined) return false;
        cleanup();
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`OTLP receiver: timed out after ${timeoutMs} ms waiting for ${what} (${spans.length} spans received: ${[...new Set(spans.map((s) => s.name))].join(', ')})`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(wake);
      };
      const wake = () => void attempt();
      if (!attempt()) waiters.add(wake);
    });

  return {
    url,
    spans,
    bodies,
    waitForTrace(traceId, done, timeoutMs = 10_000) {
      return waitUntil(
        () => {
          const found = spans.filter((s) => s.traceId === traceId);
          return done(found) ? found : undefined;
        },
        timeoutMs,
        `trace ${traceId}`,
      );
    },
    waitForSpans(match, count, timeoutMs = 10_000) {
      return waitUntil(
        () => {
          const found = spans.filter(match);
          return found.length >= count ? found : undefined;
        },
        timeoutMs,
        `${count} matching spans`,
      );
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
