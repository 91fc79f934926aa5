import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { ExpressionError } from './expression-error.ts';
import { parseExpression, type Condition, type Operand } from './parse.ts';

/** A compact, readable rendering of the tree: and(...), or(...), not(...), ==($.a, 1), exists($.a). */
function show(condition: Condition): string {
  const operand = (o: Operand) => (o.kind === 'query' ? o.text : JSON.stringify(o.value));
  switch (condition.kind) {
    case 'exists':
      return `exists(${condition.query.text})`;
    case 'compare':
      return `${condition.operator}(${operand(condition.left)}, ${operand(condition.right)})`;
    case 'not':
      return `not(${show(condition.condition)})`;
    case 'and':
    case 'or':
      return `${condition.kind}(${condition.conditions.map(show).join(', ')})`;
  }
}

const parse = (expression: string) => show(parseExpression(expression));

function assertParseError(expression: string, message: string | RegExp): void {
  assert.throws(() => parseExpression(expression), (thrown: unknown) => {
    assert.ok(thrown instanceof ExpressionError, String(thrown));
    if (typeof message === 'string') assert.equal(thrown.message, message);
    else assert.match(thrown.message, message);
    return true;
  });
}

describe('jsonpath expression parser', () => {
  describe('precedence: "!" > comparison > "&&" > "||"', () => {
    it('binds "&&" tighter than "||"', () => {
      assert.equal(parse('$.a || $.b && $.c'), 'or(exists($.a), and(exists($.b), exists($.c)))');
      assert.equal(parse('$.a && $.b || $.c'), 'or(and(exists($.a), exists($.b)), exists($.c))');
    });

    it('binds comparisons tighter than "&&" and "||"', () => {
      assert.equal(parse("$.a == 1 && $.b != 'x' || $.c > 2"), 'or(and(==($.a, 1), !=($.b, "x")), >($.c, 2))');
    });

    it('binds "!" to the query or group right after it', () => {
      assert.equal(parse('!$.a && $.b'), 'and(not(exists($.a)), exists($.b))');
      assert.equal(parse('!($.a && $.b)'), 'not(and(exists($.a), exists($.b)))');
      assert.equal(parse('!($.a == 1) || $.b'), 'or(not(==($.a, 1)), exists($.b))');
    });

    it('collapses repeated "!"', () => {
      assert.equal(parse('!!$.a'), 'exists($.a)');
      assert.equal(parse('!!!$.a'), 'not(exists($.a))');
      assert.equal(parse(`${'!'.repeat(4000)}$.a`), 'exists($.a)');
    });

    it('flattens chains of the same operator', () => {
      assert.equal(parse('$.a && $.b && $.c && $.d'), 'and(exists($.a), exists($.b), exists($.c), exists($.d))');
    });
  });

  describe('parentheses', () => {
    it('override precedence', () => {
      assert.equal(parse('($.a || $.b) && $.c'), 'and(or(exists($.a), exists($.b)), exists($.c))');
      assert.equal(parse('$.a && ($.b || ($.c == 1))'), 'and(exists($.a), or(exists($.b), ==($.c, 1)))');
    });

    it('may nest 32 deep but not 33', () => {
      assert.equal(parse(`${'('.repeat(32)}$.a${')'.repeat(32)}`), 'exists($.a)');
      assertParseError(`${'('.repeat(33)}$.a${')'.repeat(33)}`, 'parentheses nest more than 32 deep at position 32');
    });
  });

  describe('operands', () => {
    it('puts literals on either side', () => {
      assert.equal(parse('5 < $.a'), '<(5, $.a)');
      assert.equal(parse('$.a == null'), '==($.a, null)');
    });

    it('compares two queries', () => {
      assert.equal(parse('$.a == $.b'), '==($.a, $.b)');
    });

    it('treats a bare query as "exists"', () => {
      assert.equal(parse('$.a'), 'exists($.a)');
      assert.equal(parse('$'), 'exists($)');
    });
  });

  describe('malformed expressions', () => {
    it('reports a missing operand after a comparison', () => {
      assertParseError("$.event_type == ", 'expected a query or a literal after "==" at position 16, found the end of the expression');
      assertParseError('$.a > && $.b', 'expected a query or a literal after ">" at position 6, found "&&"');
    });

    it('reports a missing operand after "&&", "||" and "!"', () => {
      assertParseError('$.a &&', 'expected a query, a literal, "(" or "!" at position 6, found the end of the expression');
      assertParseError('|| $.a', 'expected a query, a literal, "(" or "!" at position 0, found "||"');
      assertParseError('!', 'expected a query or "(" after "!" at position 1, found the end of the expression');
      assertParseError("!'x' == $.a", `expected a query or "(" after "!" at position 1, found "'x'"`);
    });

    it('reports a literal used as a condition', () => {
      assertParseError('true', 'expected a comparison operator at position 4 after the literal true, found the end of the expression; a literal alone is not a condition');
      assertParseError("$.a && 'x'", /^expected a comparison operator at position 10 after the literal 'x'/);
    });

    it('reports "!" in front of a comparison, with the fix', () => {
      assertParseError('!$.a == 1', 'unexpected "==" at position 5: "!" applies to the query before it, not to the comparison; write !(... == ...)');
    });

    it('reports chained comparisons', () => {
      assertParseError('1 < $.a < 5', 'unexpected "<" at position 8: comparisons cannot be chained; combine them with "&&" or "||"');
    });

    it('reports a compared group', () => {
      assertParseError('($.a) == 1', 'unexpected "==" at position 6: a parenthesized condition cannot be compared');
    });

    it('reports unbalanced parentheses', () => {
      assertParseError('($.a && $.b', 'expected ")" at position 11 to close the "(" at position 0, found the end of the expression');
      assertParseError('$.a && $.b)', 'unexpected ")" at position 10 without a matching "("');
      assertParseError('()', 'expected a query, a literal, "(" or "!" at position 1, found ")"');
    });

    it('reports two conditions without an operator between them', () => {
      assertParseError('$.a $.b', /^unexpected "\$\.b" at position 4; expected "&&", "\|\|" or the end of the expression$/);
      assertParseError('$.a == 1 2', 'unexpected "2" at position 9; expected "&&", "||" or the end of the expression');
    });

    it('reports an empty expression', () => {
      assertParseError('', 'expected a query, a literal, "(" or "!" at position 0, found the end of the expression');
      assertParseError('   ', 'expected a query, a literal, "(" or "!" at position 3, found the end of the expression');
    });

    it('allows 64 queries and rejects the 65th', () => {
      const queries = (n: number) => Array.from({ length: n }, (_, i) => `$.f${i}`).join(' || ');
      assert.doesNotThrow(() => parseExpression(queries(64)));
      assertParseError(queries(65), /^too many queries: at most 64 are allowed, and another starts at position \d+$/);
    });
  });
});
