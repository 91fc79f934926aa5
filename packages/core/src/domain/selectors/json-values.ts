import { compareNumbers, ExactNumber, isJsonNumber } from '../json/exact-number.ts';

/**
 * Comparisons shared by both selector kinds. There is no type coercion anywhere: values of
 * different JSON types are never equal and never ordered (`"100" > 5` is false). Numbers compare
 * by value, exactly: an ExactNumber (beyond a double) against any number.
 */

export type OrderingOperator = '>' | '>=' | '<' | '<=';

/** Structural equality of JSON values: objects by their keys (in any order), arrays by position. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof ExactNumber || b instanceof ExactNumber) return isJsonNumber(a) && isJsonNumber(b) && compareNumbers(a, b) === 0;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const aKeys = Object.keys(a);
  if (aKeys.length !== Object.keys(b).length) return false;
  for (const key of aKeys) {
    if (!Object.hasOwn(b, key)) return false;
    if (!deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}

/**
 * `a op b` for two numbers or two strings; any other pair is unordered and false. Strings
 * compare by UTF-16 code units, as JavaScript does.
 */
export function compareOrdered(op: OrderingOperator, a: unknown, b: unknown): boolean {
  if ((a instanceof ExactNumber || b instanceof ExactNumber) && isJsonNumber(a) && isJsonNumber(b)) {
    const order = compareNumbers(a, b);
    return op === '>' ? order > 0 : op === '>=' ? order >= 0 : op === '<' ? order < 0 : order <= 0;
  }
  const comparable = (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string');
  if (!comparable) return false;
  const x = a as number | string;
  const y = b as number | string;
  switch (op) {
    case '>':
      return x > y;
    case '>=':
      return x >= y;
    case '<':
      return x < y;
    case '<=':
      return x <= y;
  }
}

/**
 * Why `value` is not a JSON value (a non-finite number, a function, `undefined`, too deep...),
 * or `null` when it is one. `path` locates the offending part, e.g. `[2].name`.
 */
export function findNonJsonValue(value: unknown, maxDepth: number, path = ''): { path: string; problem: string } | null {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return null;
    case 'number':
      return Number.isFinite(value) ? null : { path, problem: `${value} is not a JSON number` };
    case 'object': {
      if (value === null) return null;
      const isPlain = Array.isArray(value) || [Object.prototype, null].includes(Object.getPrototypeOf(value));
      if (!isPlain) return { path, problem: 'not a JSON value' };
      if (maxDepth === 0) return { path, problem: 'nested too deeply' };
      const entries: [string, unknown][] = Array.isArray(value)
        ? value.map((item, i) => [`${path}[${i}]`, item])
        : Object.entries(value).map(([key, item]) => [`${path}.${key}`, item]);
      for (const [itemPath, item] of entries) {
        const found = findNonJsonValue(item, maxDepth - 1, itemPath);
        if (found) return found;
      }
      return null;
    }
    default:
      return { path, problem: `${typeof value} is not a JSON value` };
  }
}
