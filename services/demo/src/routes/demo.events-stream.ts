import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { AnyRoute } from '@triggers/core/http';
import { TriggersError } from '@triggers/core/domain';
import type { DemoDeps } from '../deps.ts';
import { defineDemoRoute } from '../define-demo-route.ts';
import { relayedError } from '../public-api.ts';

/**
 * `GET /demo/events/stream`: the public event stream relayed byte for byte as the demo customer,
 * so the console's inbox (which has no API key) hears of new events as they are accepted instead
 * of polling. Same query, `Last-Event-ID`, pings and overflow as `GET /api/v1/events/stream`; a
 * problem before the stream starts is relayed as a problem.
 */
export function makeDemoEventStreamRoute(deps: DemoDeps, publicRoutes: readonly AnyRoute[]): AnyRoute {
  const target = publicRoutes.find((route) => route.operationId === 'streamEvents');
  if (!target) throw new Error('The demo relays streamEvents, which is not a public API route');
  return defineDemoRoute({
    method: 'get',
    path: '/demo/events/stream',
    operationId: 'demoStreamEvents',
    summary: "The demo customer's live events (Server-Sent Events)",
    description: 'Relays `GET /api/v1/events/stream` as the demo customer.',
    query: target.query,
    headers: target.headers,
    responses: target.responses,
    errors: ['invalid_request', 'invalid_selector', 'rate_limited', 'unavailable'],
    handler: async ({ req, res }) => {
      const upstreamAbort = new AbortController();
      res.once('close', () => upstreamAbort.abort());
      const search = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
      let upstream: Response;
      try {
        upstream = await deps.customer.openEventStream(search, req.get('last-event-id') ?? undefined, upstreamAbort.signal);
      } catch {
        throw new TriggersError('unavailable', { detail: 'The demo could not reach the public API. Retry later.' });
      }
      if (!upstream.ok || !upstream.body) {
        const text = await upstream.text().catch(() => '');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        throw relayedError({ status: upstream.status, headers: upstream.headers, body });
      }
      res.writeHead(200, {
        'content-type': upstream.headers.get('content-type') ?? 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
      });
      res.flushHeaders();
      // pipeline applies back-pressure both ways: a slow browser slows the read of the upstream
      // stream, whose server cuts it off with `event: overflow` (relayed) rather than buffering.
      await pipeline(Readable.fromWeb(upstream.body as unknown as WebReadableStream<Uint8Array>), res).catch(() => undefined);
      upstreamAbort.abort();
      return { status: 200, streamed: true };
    },
  });
}
