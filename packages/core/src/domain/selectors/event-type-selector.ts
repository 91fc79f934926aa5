import { MAX_EVENT_TYPE_LENGTH } from './limits.ts';
import type { PayloadPredicate } from './types.ts';

/**
 * `{"type": "event_type", "value": "order.created"}` matches `payload.event_type` exactly.
 * Wildcards: `*` alone matches any non-empty event type; a trailing `.*` matches one or more
 * trailing segments (`order.*` matches `order.created` and `order.item.added`, not `order`).
 * A payload without a string `event_type` never matches.
 */
export function compileEventTypePattern(value: string): { predicate: PayloadPredicate } | { problem: string } {
  if (value === '') return { problem: 'must not be empty' };
  if (value.length > MAX_EVENT_TYPE_LENGTH) {
    return { problem: `is ${value.length} characters long; at most ${MAX_EVENT_TYPE_LENGTH} are allowed` };
  }
  if (value === '*') return { predicate: (payload) => isNonEmptyString(payload.event_type) };

  const prefix = value.endsWith('.*') ? value.slice(0, -1) : null; // keeps the dot: "order."
  const star = (prefix ?? value).indexOf('*');
  if (star !== -1) {
    return { problem: `"*" at position ${star} is not allowed; use "*" alone or a trailing ".*" as in "order.*"` };
  }
  if (prefix === '.') return { problem: '".*" needs a prefix, as in "order.*"' };
  if (prefix !== null) {
    return {
      predicate: (payload) => {
        const eventType = payload.event_type;
        return typeof eventType === 'string' && eventType.length > prefix.length && eventType.startsWith(prefix);
      },
    };
  }
  return { predicate: (payload) => payload.event_type === value };
}

function isNonEmptyString(value: unknown): boolean {
  return typeof value === 'string' && value !== '';
}
