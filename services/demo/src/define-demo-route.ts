import { defineRoute, type RouteSpec } from '@triggers/core/http';

/** A `/demo/*` route: unauthenticated (it acts as the demo customer) and documented under "Demo". */
export function defineDemoRoute<Q = undefined, P = undefined, B = undefined>(spec: Omit<RouteSpec<Q, P, B>, 'tags' | 'auth'>): RouteSpec<Q, P, B> {
  return defineRoute({ ...spec, tags: ['Demo'], auth: 'none' });
}
