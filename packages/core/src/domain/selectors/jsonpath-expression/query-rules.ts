import type { JsonPathQuery } from 'jsonpath-rfc9535/parser';
import { MAX_DESCENDANT_SEGMENTS_PER_QUERY, MAX_QUERY_FANOUT } from '../limits.ts';

/**
 * Checks a parsed JSONPath query against what the library's parser lets through but we cannot
 * run safely or correctly. Returns the problem, or null when the query is fine.
 *
 * - Time: `..` and multi-selector brackets multiply work (see MAX_DESCENDANT_SEGMENTS_PER_QUERY
 *   and MAX_QUERY_FANOUT); a `$` query inside a filter runs once per candidate node, so it must be
 *   singular; `match()` and `search()` run JavaScript's backtracking RegExp, so they are refused
 *   (a custom selector's `matches` operator is linear-time).
 * - Correctness: RFC 9535 rejects ill-typed function calls (`length(@.*)`, `count(1)`, unknown
 *   names); the library parses them and quietly returns false, so we reject them here.
 */
export function findQueryProblem(query: JsonPathQuery): string | null {
  const tally = { descendants: 0, fanout: 1 };
  try {
    visit(query as unknown as AstNode, tally);
  } catch (thrown) {
    if (thrown instanceof QueryRuleViolation) return thrown.message;
    throw thrown;
  }
  if (tally.descendants > MAX_DESCENDANT_SEGMENTS_PER_QUERY) {
    return `${tally.descendants} ".." segments (counting those in filters); at most ${MAX_DESCENDANT_SEGMENTS_PER_QUERY} is allowed, because each one multiplies the work by the depth of the payload`;
  }
  if (tally.fanout > MAX_QUERY_FANOUT) {
    return `its bracketed selections multiply to ${tally.fanout} selectors (counting those in filters); at most ${MAX_QUERY_FANOUT} are allowed, because each one can select a node again`;
  }
  return null;
}

/** A query is singular when it has only name and index selectors, one per segment. */
export function isSingularQuery(query: { segments: readonly unknown[] }): boolean {
  return (query.segments as AstNode[]).every((segment) => {
    if (segment.type !== 'ChildSegment') return false;
    const node = segment.node as AstNode;
    if (node.type === 'MemberNameShorthand') return true;
    if (node.type !== 'BracketedSelection') return false;
    const selectors = node.selectors as AstNode[];
    return selectors.length === 1 && (selectors[0].type === 'NameSelector' || selectors[0].type === 'IndexSelector');
  });
}

interface AstNode {
  type: string;
  [key: string]: unknown;
}

class QueryRuleViolation extends Error {}

/** RFC 9535 §2.4 function types, for the functions we run. */
const FUNCTIONS: Record<string, { parameter: 'ValueType' | 'NodesType' }> = {
  length: { parameter: 'ValueType' },
  count: { parameter: 'NodesType' },
  value: { parameter: 'NodesType' },
};

function visit(node: AstNode, tally: { descendants: number; fanout: number }): void {
  switch (node.type) {
    case 'DescendantSegment':
      tally.descendants++;
      break;
    case 'BracketedSelection':
      tally.fanout *= (node.selectors as unknown[]).length;
      break;
    case 'FilterQuery': {
      const query = node.value as AstNode & { segments: unknown[] };
      if (query.type === 'JsonPathQuery' && !isSingularQuery(query)) {
        throw new QueryRuleViolation('a query starting with "$" inside a filter must select a single value (names and indices only), since it runs once for every candidate node');
      }
      break;
    }
    case 'TestExpr': {
      const expression = node.expression as AstNode;
      if (expression.type === 'FunctionExpr' && Object.hasOwn(FUNCTIONS, expression.name as string)) {
        throw new QueryRuleViolation(`${expression.name}() returns a value, not a boolean; compare it, as in ${expression.name}(@.x) > 1`);
      }
      break;
    }
    case 'FunctionExpr':
      checkFunctionCall(node);
      break;
  }
  for (const child of Object.values(node)) {
    if (Array.isArray(child)) {
      for (const item of child) if (isAstNode(item)) visit(item, tally);
    } else if (isAstNode(child)) {
      visit(child, tally);
    }
  }
}

function checkFunctionCall(node: AstNode): void {
  const name = node.name as string;
  if (name === 'match' || name === 'search') {
    throw new QueryRuleViolation(`${name}() is not supported: it runs a backtracking regular expression; use a custom selector with the "matches" operator, which is linear-time`);
  }
  if (!Object.hasOwn(FUNCTIONS, name)) {
    throw new QueryRuleViolation(`unknown function ${name}(); available: ${Object.keys(FUNCTIONS).join(', ')}`);
  }
  const args = node.arguments as AstNode[];
  if (args.length !== 1) throw new QueryRuleViolation(`${name}() takes exactly one argument, got ${args.length}`);
  const [arg] = args;
  const isQuery = arg.type === 'FilterQuery';
  if (FUNCTIONS[name].parameter === 'NodesType' && !isQuery) {
    throw new QueryRuleViolation(`${name}() takes a query, as in ${name}(@.items[*])`);
  }
  if (FUNCTIONS[name].parameter === 'ValueType') {
    const isValue =
      arg.type === 'Literal' ||
      (isQuery && isSingularQuery(arg.value as AstNode & { segments: unknown[] })) ||
      (arg.type === 'FunctionExpr' && Object.hasOwn(FUNCTIONS, arg.name as string));
    if (!isValue) throw new QueryRuleViolation(`${name}() takes a single value: a literal, a singular query such as @.name, or a function`);
  }
}

function isAstNode(value: unknown): value is AstNode {
  return typeof value === 'object' && value !== null && typeof (value as AstNode).type === 'string';
}
