import { MAX_PARENTHESIS_DEPTH, MAX_QUERIES_PER_EXPRESSION } from '../limits.ts';
import { ExpressionError } from './expression-error.ts';
import { tokenize, type ComparisonOperator, type Literal, type Token } from './tokenize.ts';

/**
 * The boolean layer of a `jsonpath` expression, by recursive descent:
 *
 *   expression := and ("||" and)*
 *   and        := unary ("&&" unary)*
 *   unary      := "!"* primary            — "!" binds tighter than a comparison
 *   primary    := "(" expression ")" | operand [comparison operand]
 *   operand    := query | literal         — a literal alone is not a condition
 *
 * So `!` > comparison > `&&` > `||`. Because `!` binds tighter, `!$.a == 1` would compare a
 * boolean with 1; it is rejected with a hint to write `!($.a == 1)`.
 */

export interface QueryOperand {
  kind: 'query';
  text: string;
  position: number;
}
export type Operand = QueryOperand | { kind: 'literal'; value: Literal };

export type Condition =
  | { kind: 'exists'; query: QueryOperand }
  | { kind: 'compare'; operator: ComparisonOperator; left: Operand; right: Operand }
  | { kind: 'not'; condition: Condition }
  | { kind: 'and'; conditions: Condition[] }
  | { kind: 'or'; conditions: Condition[] };

export function parseExpression(expression: string): Condition {
  const parser = new Parser(tokenize(expression));
  return parser.parseAll();
}

class Parser {
  private index = 0;
  private depth = 0;
  private queries = 0;

  constructor(private readonly tokens: Token[]) {}

  parseAll(): Condition {
    const condition = this.parseOr();
    const token = this.peek();
    if (token.kind !== 'end') {
      const hint = token.kind === ')' ? ' without a matching "("' : '; expected "&&", "||" or the end of the expression';
      throw new ExpressionError(`unexpected ${describe(token)} at position ${token.position}${hint}`);
    }
    return condition;
  }

  private parseOr(): Condition {
    const conditions = [this.parseAnd()];
    while (this.peek().kind === '||') {
      this.index++;
      conditions.push(this.parseAnd());
    }
    return conditions.length === 1 ? conditions[0] : { kind: 'or', conditions };
  }

  private parseAnd(): Condition {
    const conditions = [this.parseUnary()];
    while (this.peek().kind === '&&') {
      this.index++;
      conditions.push(this.parseUnary());
    }
    return conditions.length === 1 ? conditions[0] : { kind: 'and', conditions };
  }

  /** Negations are counted, not nested, so `!!!!…` cannot exhaust the stack. */
  private parseUnary(): Condition {
    let negations = 0;
    while (this.peek().kind === '!') {
      negations++;
      this.index++;
    }
    if (negations === 0) return this.parsePrimary();

    const operandStart = this.peek();
    if (operandStart.kind !== 'query' && operandStart.kind !== '(') {
      throw new ExpressionError(`expected a query or "(" after "!" at position ${operandStart.position}, found ${describe(operandStart)}`);
    }
    const condition = operandStart.kind === '(' ? this.parseGroup() : this.parseExists();
    const after = this.peek();
    if (after.kind === 'comparison') {
      throw new ExpressionError(
        `unexpected ${describe(after)} at position ${after.position}: "!" applies to the query before it, not to the comparison; write !(... ${after.text} ...)`,
      );
    }
    return negations % 2 === 1 ? { kind: 'not', condition } : condition;
  }

  private parsePrimary(): Condition {
    const token = this.peek();
    if (token.kind === '(') return this.parseGroup();
    if (token.kind !== 'query' && token.kind !== 'literal') {
      throw new ExpressionError(`expected a query, a literal, "(" or "!" at position ${token.position}, found ${describe(token)}`);
    }
    const left = this.parseOperand();
    const operatorToken = this.peek();
    if (operatorToken.kind !== 'comparison') {
      if (left.kind === 'query') return { kind: 'exists', query: left };
      throw new ExpressionError(
        `expected a comparison operator at position ${operatorToken.position} after the literal ${token.text}, found ${describe(operatorToken)}; a literal alone is not a condition`,
      );
    }
    this.index++;
    const rightToken = this.peek();
    if (rightToken.kind !== 'query' && rightToken.kind !== 'literal') {
      throw new ExpressionError(`expected a query or a literal after "${operatorToken.text}" at position ${rightToken.position}, found ${describe(rightToken)}`);
    }
    const right = this.parseOperand();
    const next = this.peek();
    if (next.kind === 'comparison') {
      throw new ExpressionError(`unexpected ${describe(next)} at position ${next.position}: comparisons cannot be chained; combine them with "&&" or "||"`);
    }
    return { kind: 'compare', operator: operatorToken.operator, left, right };
  }

  private parseGroup(): Condition {
    const open = this.next();
    if (++this.depth > MAX_PARENTHESIS_DEPTH) {
      throw new ExpressionError(`parentheses nest more than ${MAX_PARENTHESIS_DEPTH} deep at position ${open.position}`);
    }
    const condition = this.parseOr();
    const close = this.next();
    if (close.kind !== ')') {
      throw new ExpressionError(`expected ")" at position ${close.position} to close the "(" at position ${open.position}, found ${describe(close)}`);
    }
    this.depth--;
    const after = this.peek();
    if (after.kind === 'comparison') {
      throw new ExpressionError(`unexpected ${describe(after)} at position ${after.position}: a parenthesized condition cannot be compared`);
    }
    return condition;
  }

  private parseExists(): Condition {
    return { kind: 'exists', query: this.parseOperand() as QueryOperand };
  }

  private parseOperand(): Operand {
    const token = this.next();
    if (token.kind === 'literal') return { kind: 'literal', value: token.value };
    if (token.kind !== 'query') throw new Error(`parseOperand called on ${token.kind}`); // callers check first
    if (++this.queries > MAX_QUERIES_PER_EXPRESSION) {
      throw new ExpressionError(`too many queries: at most ${MAX_QUERIES_PER_EXPRESSION} are allowed, and another starts at position ${token.position}`);
    }
    return { kind: 'query', text: token.text, position: token.position };
  }

  private peek(): Token {
    return this.tokens[this.index];
  }

  private next(): Token {
    const token = this.tokens[this.index];
    if (token.kind !== 'end') this.index++;
    return token;
  }
}

function describe(token: Token): string {
  if (token.kind === 'end') return 'the end of the expression';
  const text = token.text.length > 40 ? `${token.text.slice(0, 40)}…` : token.text;
  return JSON.stringify(text);
}
