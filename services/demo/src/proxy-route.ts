import type { AnyRoute } from '@triggers/core/http';
import type { ErrorCode } from '@triggers/core/domain';
import type { PublicApiResponse } from './public-api.ts';
import type { DemoDeps } from './deps.ts';

const PUBLIC_PREFIX = '/api/v1/';

export interface ProxySpec {
  /** The public route's `operationId`, e.g. `getEvent`. */
  operationId: string;
  summary: string;
  /** Said after "Proxies `GET /api/v1/...`". */
  note?: string;
  /** Runs after a 2xx answer, before it is returned. */
  afterwards?: (response: PublicApiResponse) => Promise<void>;
}

/**
 * The demo twin of a public route: `/api/v1/x` becomes `/demo/x`, unauthenticated, with the public
 * route's own schemas (so it validates and documents exactly alike), and every call forwarded as the
 * demo customer. Query strings and bodies go on as received; the public API answers for them.
 */
export function makeProxyRoute(deps: DemoDeps, publicRoutes: readonly AnyRoute[], spec: ProxySpec): AnyRoute {
  const target = publicRoutes.find((route) => route.operationId === spec.operationId);
  if (!target || !target.path.startsWith(PUBLIC_PREFIX)) throw new Error(`The demo proxies ${spec.operationId}, which is not a public API route`);
  const method = target.method.toUpperCase() as 'GET' | 'POST' | 'PATCH' | 'DELETE';
  const openApiPath = target.path.replace(/:([A-Za-z_]+)/g, '{$1}');
  const errors: ErrorCode[] = [...target.errors.filter((code) => code !== 'unauthorized'), ...(['rate_limited', 'unavailable'] as const)];
  return {
    ...target,
    path: `/demo/${target.path.slice(PUBLIC_PREFIX.length)}`,
    operationId: `demo${target.operationId[0]!.toUpperCase()}${target.operationId.slice(1)}`,
    summary: spec.summary,
    description: `Proxies \`${method} ${openApiPath}\`${spec.note ? `: ${spec.note}` : '.'}`,
    tags: ['Demo'],
    auth: 'none',
    // Only the path, query and body go on: a request header the public route reads is not forwarded.
    headers: undefined,
    errors: [...new Set(errors)],
    handler: async ({ req, params, json, requestId }) => {
      const response = await deps.customer.call({
        method,
        path: target.path.replace(/:([A-Za-z_]+)/g, (_, name: string) => pathSegment(String((params as Record<string, unknown>)[name]))),
        query: target.query ? rawQuery(req.query as Record<string, unknown>) : undefined,
        json: target.body || target.bodyValidatedByHandler ? json : undefined,
        requestId,
      });
      await spec.afterwards?.(response);
      return { status: response.status, body: response.body };
    },
  };
}

/** Encoded so that `..` or `/` in an id stays one segment of the public path (a 404 there). */
function pathSegment(value: string): string {
  return encodeURIComponent(value).replaceAll('.', '%2E');
}

/** The query as the console sent it; the route's schema has already refused anything but strings. */
function rawQuery(query: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(query).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}
