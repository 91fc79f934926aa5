import { compileCustomFunction } from './custom-selector.ts';
import { compileEventTypePattern } from './event-type-selector.ts';
import { childPath, describeType, invalidSelector, isPlainObject, rejectUnknownKeys } from './invalid-selector.ts';
import { compileJsonPathExpression } from './jsonpath-selector.ts';
import { MAX_COMBINATOR_DEPTH, MAX_SELECTOR_NODES } from './limits.ts';
import type { CompiledSelector, PayloadPredicate, Selector } from './types.ts';
import type { JsonText } from '../json/json-text.ts';

const SELECTOR_TYPES = ['event_type', 'jsonpath', 'custom', 'all', 'any'] as const;

interface Compiled {
  source: Selector;
  predicate: PayloadPredicate;
}

/**
 * Validates a selector as a client sent it (parsed JSON) and compiles it for matching. Throws
 * `invalid_selector` naming the first problem and where it is (`selectors[1].function.operator:
 * unknown operator "bigger"`), so a bad selector is refused when it is saved.
 */
export function compileSelector(input: unknown): CompiledSelector {
  const { source, predicate } = compileNode(input, '', 0, { nodes: 0 });
  return {
    source,
    matches(payload) {
      // Everything was validated at compile time; a throw here would be a bug or a payload too
      // deep for the stack, and a selector that cannot be evaluated does not match.
      try {
        return predicate(payload);
      } catch {
        return false;
      }
    },
  };
}

/**
 * Whether a payload, as its JSON text, matches: the one way the matcher, the event stream's
 * `selector` filter and the console's selector tester all match, so they cannot disagree. The
 * text is parsed once (cached in the JsonText) with numbers exact and `__proto__` an own key.
 */
export function selectorMatchesPayload(selector: CompiledSelector, payload: JsonText<Record<string, unknown>>): boolean {
  return selector.matches(payload.value());
}

/** `depth` counts the all/any selectors around this one; `count` is shared by the whole tree. */
function compileNode(input: unknown, path: string, depth: number, count: { nodes: number }): Compiled {
  if (++count.nodes > MAX_SELECTOR_NODES) {
    throw invalidSelector(path, `too many selectors: at most ${MAX_SELECTOR_NODES} are allowed in one selector, counting nested ones`);
  }
  if (!isPlainObject(input)) throw invalidSelector(path, `expected a selector object, got ${describeType(input)}`);
  const type = input.type;
  const typePath = childPath(path, 'type');
  if (type === undefined) throw invalidSelector(typePath, `is required; one of ${SELECTOR_TYPES.join(', ')}`);
  if (typeof type !== 'string') throw invalidSelector(typePath, `expected a string, got ${describeType(type)}`);

  switch (type) {
    case 'event_type': {
      rejectUnknownKeys(input, ['type', 'value'], path, 'an "event_type" selector');
      const value = requireString(input.value, childPath(path, 'value'));
      const compiled = compileEventTypePattern(value);
      if ('problem' in compiled) throw invalidSelector(childPath(path, 'value'), compiled.problem);
      return { source: { type, value }, predicate: compiled.predicate };
    }
    case 'jsonpath': {
      rejectUnknownKeys(input, ['type', 'expression'], path, 'a "jsonpath" selector');
      const expression = requireString(input.expression, childPath(path, 'expression'));
      const compiled = compileJsonPathExpression(expression);
      if ('problem' in compiled) throw invalidSelector(childPath(path, 'expression'), compiled.problem);
      return { source: { type, expression }, predicate: compiled.predicate };
    }
    case 'custom': {
      rejectUnknownKeys(input, ['type', 'function'], path, 'a "custom" selector');
      const functionPath = childPath(path, 'function');
      if (input.function === undefined) throw invalidSelector(functionPath, 'is required');
      const compiled = compileCustomFunction(input.function, functionPath);
      return { source: { type, function: compiled.source }, predicate: compiled.predicate };
    }
    case 'all':
    case 'any':
      return compileCombinator(type, input, path, depth + 1, count);
    default:
      throw invalidSelector(typePath, `unknown selector type ${JSON.stringify(type)}; expected one of ${SELECTOR_TYPES.join(', ')}`);
  }
}

function compileCombinator(type: 'all' | 'any', input: Record<string, unknown>, path: string, depth: number, count: { nodes: number }): Compiled {
  rejectUnknownKeys(input, ['type', 'selectors'], path, `an "${type}" selector`);
  if (depth > MAX_COMBINATOR_DEPTH) {
    throw invalidSelector(path, `"all"/"any" selectors nest too deeply: at most ${MAX_COMBINATOR_DEPTH} levels are allowed`);
  }
  const selectorsPath = childPath(path, 'selectors');
  const selectors = input.selectors;
  if (selectors === undefined) throw invalidSelector(selectorsPath, 'is required');
  if (!Array.isArray(selectors)) throw invalidSelector(selectorsPath, `expected an array of selectors, got ${describeType(selectors)}`);
  if (selectors.length === 0) throw invalidSelector(selectorsPath, `must not be empty; "${type}" needs at least one selector`);

  const children = selectors.map((child, i) => compileNode(child, childPath(selectorsPath, i), depth, count));
  const predicates = children.map((child) => child.predicate);
  const predicate: PayloadPredicate =
    type === 'all'
      ? (payload) => {
          for (const part of predicates) if (!part(payload)) return false;
          return true;
        }
      : (payload) => {
          for (const part of predicates) if (part(payload)) return true;
          return false;
        };
  return { source: { type, selectors: children.map((child) => child.source) }, predicate };
}

function requireString(value: unknown, path: string): string {
  if (value === undefined) throw invalidSelector(path, 'is required');
  if (typeof value !== 'string') throw invalidSelector(path, `expected a string, got ${describeType(value)}`);
  return value;
}
