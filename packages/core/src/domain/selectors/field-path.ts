/**
 * The dotted `field` of a custom selector: `customer.address.city`, `items.0.price`.
 * A numeric segment indexes an array (and is an ordinary key in an object); keys that contain
 * a dot cannot be addressed here, which is what `jsonpath` selectors are for.
 */

/** Returned by `readField` when the payload has no value at the path. */
export const MISSING: unique symbol = Symbol('missing');

/** One segment, with its array index worked out once at compile time (null: not an index). */
export interface FieldSegment {
  readonly key: string;
  readonly index: number | null;
}

export type FieldPath = readonly FieldSegment[];

const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;

/** The segments of `field`, or the problem with it. */
export function parseFieldPath(field: string): { segments: FieldPath } | { problem: string } {
  if (field === '') return { problem: 'must not be empty' };
  const keys = field.split('.');
  const empty = keys.indexOf('');
  if (empty !== -1) return { problem: `segment ${empty + 1} of ${JSON.stringify(field)} is empty` };
  return { segments: keys.map((key) => ({ key, index: ARRAY_INDEX.test(key) ? Number(key) : null })) };
}

/** The value at `segments`, or MISSING. Only own properties count: `constructor` is not a field. */
export function readField(payload: unknown, segments: FieldPath): unknown {
  let current: unknown = payload;
  for (const { key, index } of segments) {
    if (Array.isArray(current)) {
      if (index === null || index >= current.length) return MISSING;
      current = current[index];
    } else if (typeof current === 'object' && current !== null) {
      if (!Object.hasOwn(current, key)) return MISSING;
      current = (current as Record<string, unknown>)[key];
    } else {
      return MISSING;
    }
  }
  return current === undefined ? MISSING : current;
}
