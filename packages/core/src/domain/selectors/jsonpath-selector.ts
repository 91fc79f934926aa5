import { compileCondition } from './jsonpath-expression/compile-condition.ts';
import { ExpressionError } from './jsonpath-expression/expression-error.ts';
import { parseExpression } from './jsonpath-expression/parse.ts';
import { MAX_EXPRESSION_LENGTH } from './limits.ts';
import type { PayloadPredicate } from './types.ts';

/**
 * `{"type": "jsonpath", "expression": "$.event_type == 'order.created' && $.amount > 100"}`:
 * parses the expression and compiles its queries, or says what is wrong and where. The grammar
 * is in ./jsonpath-expression/parse.ts, the semantics in ./jsonpath-expression/compile-condition.ts.
 */
export function compileJsonPathExpression(expression: string): { predicate: PayloadPredicate } | { problem: string } {
  if (expression.length > MAX_EXPRESSION_LENGTH) {
    return { problem: `is ${expression.length} characters long; at most ${MAX_EXPRESSION_LENGTH} are allowed` };
  }
  try {
    return { predicate: compileCondition(parseExpression(expression)) };
  } catch (thrown) {
    if (thrown instanceof ExpressionError) return { problem: thrown.message };
    throw thrown;
  }
}
