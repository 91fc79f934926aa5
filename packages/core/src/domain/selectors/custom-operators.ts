import { compareOrdered, deepEqual } from './json-values.ts';
import type { LinearRegex } from './linear-regex.ts';
import type { CustomOperator } from './types.ts';

/**
 * The operators of a custom selector. Each one is a test of the field's value plus what a
 * missing field means. The `not_*` operators are exactly the negation of their positive twin,
 * so a missing field (or a field of the wrong type) makes them true; `not_exists` is true only
 * for a missing field. No operator coerces types.
 */

/** What `value` an operator takes; checked when the selector is saved. */
export type ValueKind = 'none' | 'any' | 'string' | 'number_or_string' | 'array' | 'pattern';

export interface OperatorDefinition {
  readonly value: ValueKind;
  readonly whenMissing: boolean;
  /**
   * Builds the test of a present field from the validated selector value (for `pattern`, the
   * compiled LinearRegex).
   */
  readonly compile: (value: unknown) => (field: unknown) => boolean;
}

const equals = (value: unknown) => (isPrimitive(value) ? (field: unknown) => field === value : (field: unknown) => deepEqual(field, value));

const contains = (value: unknown) => (field: unknown) => {
  if (typeof field === 'string') return typeof value === 'string' && field.includes(value);
  return Array.isArray(field) && field.some((element) => deepEqual(element, value));
};

const isIn = (value: unknown) => makeMembershipTest(value as unknown[]);

const matches = (value: unknown) => {
  const regex = value as LinearRegex;
  return (field: unknown) => typeof field === 'string' && regex.test(field);
};

const ordered = (op: '>' | '>=' | '<' | '<=') => (value: unknown) => (field: unknown) => compareOrdered(op, field, value);

function negate(compile: OperatorDefinition['compile']): OperatorDefinition['compile'] {
  return (value) => {
    const test = compile(value);
    return (field) => !test(field);
  };
}

export const CUSTOM_OPERATORS: Readonly<Record<CustomOperator, OperatorDefinition>> = {
  equals: { value: 'any', whenMissing: false, compile: equals },
  not_equals: { value: 'any', whenMissing: true, compile: negate(equals) },
  greater_than: { value: 'number_or_string', whenMissing: false, compile: ordered('>') },
  greater_than_or_equal: { value: 'number_or_string', whenMissing: false, compile: ordered('>=') },
  less_than: { value: 'number_or_string', whenMissing: false, compile: ordered('<') },
  less_than_or_equal: { value: 'number_or_string', whenMissing: false, compile: ordered('<=') },
  contains: { value: 'any', whenMissing: false, compile: contains },
  not_contains: { value: 'any', whenMissing: true, compile: negate(contains) },
  starts_with: { value: 'string', whenMissing: false, compile: (value) => (field) => typeof field === 'string' && field.startsWith(value as string) },
  ends_with: { value: 'string', whenMissing: false, compile: (value) => (field) => typeof field === 'string' && field.endsWith(value as string) },
  in: { value: 'array', whenMissing: false, compile: isIn },
  not_in: { value: 'array', whenMissing: true, compile: negate(isIn) },
  exists: { value: 'none', whenMissing: false, compile: () => () => true },
  not_exists: { value: 'none', whenMissing: true, compile: () => () => false },
  matches: { value: 'pattern', whenMissing: false, compile: matches },
};

export function isCustomOperator(name: string): name is CustomOperator {
  return Object.hasOwn(CUSTOM_OPERATORS, name);
}

/** `field in values`: a Set lookup for the primitives, deep equality for arrays and objects. */
function makeMembershipTest(values: readonly unknown[]): (field: unknown) => boolean {
  const primitives = new Set(values.filter(isPrimitive));
  const structured = values.filter((value) => !isPrimitive(value));
  return (field) => (isPrimitive(field) ? primitives.has(field) : structured.some((value) => deepEqual(field, value)));
}

function isPrimitive(value: unknown): boolean {
  return value === null || typeof value !== 'object';
}
