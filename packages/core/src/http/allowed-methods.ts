import type { RequestHandler } from 'express';
import { TriggersError } from '../errors.ts';
import type { AnyRoute } from './route.ts';
import { sendProblem } from './problem.ts';

/**
 * The methods each known path serves, from the route table itself (never a hand-kept list).
 * A path is the route whose template matches it with the fewest parameters, as in OpenAPI's
 * path matching: `/api/v1/events/batch` is the batch route's, not `/api/v1/events/:event_id`'s.
 */
export class AllowedMethods {
  /** Literal templates, lower-cased (Express matches paths case-insensitively). */
  private readonly literal = new Map<string, string[]>();
  private readonly templated: { pattern: RegExp; params: number; allow: string[] }[] = [];

  constructor(routes: readonly AnyRoute[]) {
    const methodsByPath = new Map<string, Set<string>>();
    for (const route of routes) {
      const methods = methodsByPath.get(route.path) ?? new Set<string>();
      methods.add(route.method.toUpperCase());
      methodsByPath.set(route.path, methods);
    }
    for (const [path, methods] of methodsByPath) {
      if (methods.has('GET')) methods.add('HEAD');
      methods.add('OPTIONS');
      const allow = [...methods].sort();
      const params = path.split('/').filter((segment) => segment.startsWith(':')).length;
      if (params === 0) {
        this.literal.set(path.toLowerCase(), allow);
      } else {
        const source = path
          .split('/')
          .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
          .join('/');
        this.templated.push({ pattern: new RegExp(`^${source}$`, 'i'), params, allow });
      }
    }
    this.templated.sort((a, b) => a.params - b.params);
  }

  /** The `Allow` list of the path, or undefined when no route serves it. */
  of(path: string): string[] | undefined {
    // Express ignores one trailing slash (non-strict routing).
    const normalized = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
    const literal = this.literal.get(normalized.toLowerCase());
    if (literal) return literal;
    return this.templated.find((entry) => entry.pattern.test(normalized))?.allow;
  }
}

/**
 * Before routing: a known path asked with a method it does not serve is `405 method_not_allowed`
 * with `Allow`; `OPTIONS` answers `204` with `Allow`. Unknown paths pass on (console, then 404).
 */
export function methodDispatch(allowed: AllowedMethods): RequestHandler {
  return (req, res, next) => {
    const allow = allowed.of(req.path);
    if (!allow || (req.method !== 'OPTIONS' && allow.includes(req.method))) return next();
    res.setHeader('Allow', allow.join(', '));
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    sendProblem(res, new TriggersError('method_not_allowed', { detail: `${req.method} is not served on ${req.path}; it serves ${allow.join(', ')}.` }));
  };
}
