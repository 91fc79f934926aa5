import { CUSTOM_OPERATORS, isCustomOperator, type ValueKind } from './custom-operators.ts';
import { MISSING, parseFieldPath, readField } from './field-path.ts';
import { childPath, describeType, invalidSelector, isPlainObject, rejectUnknownKeys } from './invalid-selector.ts';
import { findNonJsonValue } from './json-values.ts';
import { MAX_FIELD_LENGTH, MAX_VALUE_DEPTH } from './limits.ts';
import { compileLinearRegex } from './linear-regex.ts';
import type { CustomOperator, PayloadPredicate, Selector } from './types.ts';

type CustomFunction = Extract<Selector, { type: 'custom' }>['function'];

/**
 * Validates the `function` of a custom selector (`path` points at it) and compiles it:
 * `{"field": "customer.tier", "operator": "greater_than", "value": 100}`.
 */
export function compileCustomFunction(input: unknown, path: string): { source: CustomFunction; predicate: PayloadPredicate } {
  if (!isPlainObject(input)) throw invalidSelector(path, `expected an object, got ${describeType(input)}`);
  rejectUnknownKeys(input, ['field', 'operator', 'value'], path, 'a custom function');

  const segments = validateField(input.field, childPath(path, 'field'));
  const operator = validateOperator(input.operator, childPath(path, 'operator'));
  const definition = CUSTOM_OPERATORS[operator];
  const hasValue = Object.hasOwn(input, 'value');
  const value = validateValue(definition.value, operator, hasValue, input.value, childPath(path, 'value'));

  const test = definition.compile(value);
  const { whenMissing } = definition;
  const predicate: PayloadPredicate = (payload) => {
    const field = readField(payload, segments);
    return field === MISSING ? whenMissing : test(field);
  };
  const source: CustomFunction = { field: input.field as string, operator };
  if (hasValue) source.value = structuredClone(input.value);
  return { source, predicate };
}

function validateField(field: unknown, path: string) {
  if (field === undefined) throw invalidSelector(path, 'is required');
  if (typeof field !== 'string') throw invalidSelector(path, `expected a string, got ${describeType(field)}`);
  if (field.length > MAX_FIELD_LENGTH) {
    throw invalidSelector(path, `is ${field.length} characters long; at most ${MAX_FIELD_LENGTH} are allowed`);
  }
  const parsed = parseFieldPath(field);
  if ('problem' in parsed) throw invalidSelector(path, parsed.problem);
  return parsed.segments;
}

function validateOperator(operator: unknown, path: string): CustomOperator {
  if (operator === undefined) throw invalidSelector(path, 'is required');
  if (typeof operator !== 'string') throw invalidSelector(path, `expected a string, got ${describeType(operator)}`);
  if (!isCustomOperator(operator)) {
    throw invalidSelector(path, `unknown operator ${JSON.stringify(operator)}; expected one of ${Object.keys(CUSTOM_OPERATORS).join(', ')}`);
  }
  return operator;
}

/** Checks `value` against what the operator takes; returns it ready for the operator's compile. */
function validateValue(kind: ValueKind, operator: CustomOperator, hasValue: boolean, value: unknown, path: string): unknown {
  if (kind === 'none') {
    if (hasValue) throw invalidSelector(path, `"${operator}" takes no value; remove "value"`);
    return undefined;
  }
  if (!hasValue || value === undefined) throw invalidSelector(path, `is required for "${operator}"`);
  const nonJson = findNonJsonValue(value, MAX_VALUE_DEPTH);
  if (nonJson) throw invalidSelector(path + nonJson.path, nonJson.problem);

  const actual = describeType(value);
  switch (kind) {
    case 'string':
      if (typeof value !== 'string') throw invalidSelector(path, `"${operator}" needs a string, got ${actual}`);
      return value;
    case 'number_or_string':
      if (typeof value !== 'number' && typeof value !== 'string') {
        throw invalidSelector(path, `"${operator}" needs a number or a string, got ${actual}`);
      }
      return value;
    case 'array':
      if (!Array.isArray(value)) throw invalidSelector(path, `"${operator}" needs an array of values, got ${actual}`);
      return structuredClone(value);
    case 'pattern': {
      if (typeof value !== 'string') throw invalidSelector(path, `"${operator}" needs a regular expression string, got ${actual}`);
      const compiled = compileLinearRegex(value);
      if ('problem' in compiled) throw invalidSelector(path, compiled.problem);
      return compiled.regex;
    }
    case 'any':
      return structuredClone(value); // the caller's later edits must not change what we match
  }
}
