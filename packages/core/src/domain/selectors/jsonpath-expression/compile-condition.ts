import { compareOrdered, deepEqual } from '../json-values.ts';
import { MAX_COMPARED_PAIRS } from '../limits.ts';
import type { PayloadPredicate } from '../types.ts';
import { compileQuery } from './compile-query.ts';
import type { Condition, Operand } from './parse.ts';
import type { ComparisonOperator } from './tokenize.ts';

/**
 * Turns a parsed expression into a predicate, compiling every query once. Semantics:
 *
 * - A bare query is true when it selects at least one node.
 * - A comparison is true when ANY selected node satisfies it (any pair, when both sides are
 *   queries); a query that selects nothing satisfies nothing.
 * - `a != b` is exactly `!(a == b)`: a missing field makes `!=` true, as in the custom selector.
 * - `==` is deep equality for objects and arrays; there is no type coercion (`"1" == 1` is false).
 * - `> >= < <=` hold only between two numbers or two strings; anything else is false.
 * - A query that selects more than MAX_NODES_PER_QUERY nodes, or two queries whose node pairs
 *   exceed MAX_COMPARED_PAIRS, make the comparison false (and so its `!=` true).
 */
export function compileCondition(condition: Condition): PayloadPredicate {
  switch (condition.kind) {
    case 'exists': {
      const query = compileQuery(condition.query.text, condition.query.position);
      return (payload) => query.selectsAny(payload);
    }
    case 'compare':
      return compileComparison(condition.operator, condition.left, condition.right);
    case 'not': {
      const inner = compileCondition(condition.condition);
      return (payload) => !inner(payload);
    }
    case 'and': {
      const parts = condition.conditions.map(compileCondition);
      return (payload) => {
        for (const part of parts) if (!part(payload)) return false;
        return true;
      };
    }
    case 'or': {
      const parts = condition.conditions.map(compileCondition);
      return (payload) => {
        for (const part of parts) if (part(payload)) return true;
        return false;
      };
    }
  }
}

type NodeSource = (payload: Record<string, unknown>) => readonly unknown[] | undefined;

function compileComparison(operator: ComparisonOperator, left: Operand, right: Operand): PayloadPredicate {
  if (operator === '!=') {
    const equal = compileComparison('==', left, right);
    return (payload) => !equal(payload);
  }
  const test = operator === '==' ? deepEqual : (a: unknown, b: unknown) => compareOrdered(operator, a, b);
  const leftNodes = compileOperand(left);
  const rightNodes = compileOperand(right);
  return (payload) => {
    const lefts = leftNodes(payload);
    if (lefts === undefined || lefts.length === 0) return false;
    const rights = rightNodes(payload);
    if (rights === undefined || rights.length === 0) return false;
    if (lefts.length * rights.length > MAX_COMPARED_PAIRS) return false;
    for (const a of lefts) for (const b of rights) if (test(a, b)) return true;
    return false;
  };
}

function compileOperand(operand: Operand): NodeSource {
  if (operand.kind === 'literal') {
    const nodes = [operand.value];
    return () => nodes;
  }
  const query = compileQuery(operand.text, operand.position);
  return (payload) => query.select(payload);
}
