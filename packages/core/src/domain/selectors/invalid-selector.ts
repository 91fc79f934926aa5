import { TriggersError } from '../../errors.ts';

/**
 * The `invalid_selector` error with a detail that says where and what: `selectors[1].value: ...`.
 * `path` is relative to the selector itself; the empty path is the selector.
 */
export function invalidSelector(path: string, problem: string): TriggersError {
  return new TriggersError('invalid_selector', { detail: path === '' ? problem : `${path}: ${problem}` });
}

/** `selectors[1]` + `function` → `selectors[1].function`; keys that are not identifiers are quoted. */
export function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  const segment = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : JSON.stringify(key);
  return path === '' ? segment : `${path}.${segment}`;
}

/** A JSON-ish type name for messages: `array`, `null` and `object` told apart. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Rejects keys a selector object does not define, naming the first unknown one. */
export function rejectUnknownKeys(object: Record<string, unknown>, allowed: readonly string[], path: string, what: string): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) {
      const quoted = allowed.map((k) => `"${k}"`);
      const expected = quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(', ')} and ${quoted.at(-1)}`;
      throw invalidSelector(childPath(path, key), `unknown key; ${what} has only ${expected}`);
    }
  }
}
