import assert from 'node:assert/strict';
import { TriggersError } from '../../errors.ts';
import { compileSelector } from './compile.ts';

/** Shared by the selector tests: compile or fail with `invalid_selector` and a matching detail. */

export function matches(selector: unknown, payload: Record<string, unknown>): boolean {
  return compileSelector(selector).matches(payload);
}

export function assertInvalid(selector: unknown, detail: RegExp | string): TriggersError {
  let caught: unknown;
  try {
    compileSelector(selector);
  } catch (thrown) {
    caught = thrown;
  }
  assert.ok(caught instanceof TriggersError, `expected invalid_selector, got ${caught === undefined ? 'no error' : String(caught)}`);
  assert.equal(caught.code, 'invalid_selector');
  assert.equal(caught.status, 400);
  if (typeof detail === 'string') assert.equal(caught.detail, detail);
  else assert.match(caught.detail, detail);
  return caught;
}

export function jsonpath(expression: string) {
  return { type: 'jsonpath', expression };
}

export function custom(field: string, operator: string, ...value: unknown[]) {
  return { type: 'custom', function: value.length === 0 ? { field, operator } : { field, operator, value: value[0] } };
}
