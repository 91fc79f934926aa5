import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { ExpressionError } from './expression-error.ts';
import { tokenize } from './tokenize.ts';
import { ExactNumber } from '../../json/exact-number.ts';

/** The tokens as `kind:text` strings, for compact assertions. */
function kinds(expression: string): string[] {
  return tokenize(expression).map((token) => (token.kind === 'end' ? 'end' : `${token.kind}:${token.text}`));
}

function queries(expression: string): string[] {
  return tokenize(expression).flatMap((token) => (token.kind === 'query' ? [token.text] : []));
}

function assertTokenError(expression: string, message: string | RegExp): void {
  assert.throws(() => tokenize(expression), (thrown: unknown) => {
    assert.ok(thrown instanceof ExpressionError);
    if (typeof message === 'string') assert.equal(thrown.message, message);
    else assert.match(thrown.message, message);
    return true;
  });
}

describe('jsonpath expression tokenizer', () => {
  it('splits queries, operators and literals, with positions', () => {
    assert.deepEqual(kinds("$.a == 'x' && !($.b >= -1.5e3 || $.c)"), [
      'query:$.a', 'comparison:==', "literal:'x'", '&&:&&', '!:!', '(:(', 'query:$.b', 'comparison:>=', 'literal:-1.5e3',
      '||:||', 'query:$.c', '):)', 'end',
    ]);
    assert.deepEqual(tokenize('  $.a   <  1').map((token) => token.position), [2, 8, 11, 12]);
  });

  it('needs no blank space between tokens', () => {
    assert.deepEqual(kinds('$.a==1&&$.b!=true||!$.c'), ['query:$.a', 'comparison:==', 'literal:1', '&&:&&', 'query:$.b', 'comparison:!=', 'literal:true', '||:||', '!:!', 'query:$.c', 'end']);
  });

  it('reads every comparison operator', () => {
    assert.deepEqual(kinds('$.a == $.a != $.a > $.a >= $.a < $.a <= $.a').filter((k) => k.startsWith('comparison')), [
      'comparison:==', 'comparison:!=', 'comparison:>', 'comparison:>=', 'comparison:<', 'comparison:<=',
    ]);
  });

  describe('queries', () => {
    it('runs a query through dotted, descendant, wildcard and bracketed segments', () => {
      assert.deepEqual(queries("$.a.b_2..c.*[0]['x y'][*]..[1] == 1"), ["$.a.b_2..c.*[0]['x y'][*]..[1]"]);
    });

    it('keeps filters with operators, quotes and nested brackets inside one query', () => {
      assert.deepEqual(queries("$.items[?@.price > 5 && @.tags[0] == 'a]b' || @['q\"'] != \"]\"].sku == 'A'"), [
        "$.items[?@.price > 5 && @.tags[0] == 'a]b' || @['q\"'] != \"]\"].sku",
      ]);
      assert.deepEqual(queries("$.a[?(@.b == '\\']') && @.c]"), ["$.a[?(@.b == '\\']') && @.c]"]);
    });

    it('continues a query across blank space before "." or "[", as RFC 9535 allows', () => {
      assert.deepEqual(queries('$.a .b [0] == 1'), ['$.a .b [0]']);
    });

    it('leaves trailing blank space out of the query', () => {
      assert.deepEqual(queries('$.a   '), ['$.a']);
    });

    it('accepts non-ASCII member names', () => {
      assert.deepEqual(queries('$.größe > 1'), ['$.größe']);
    });

    it('ends a query at the first character that cannot continue it', () => {
      assert.deepEqual(kinds('$.a)'), ['query:$.a', '):)', 'end']);
      assert.deepEqual(queries('$ == 1'), ['$']);
    });

    it('reports an unclosed bracket and an unterminated string inside a query', () => {
      assertTokenError('$.a[0 == 1', 'unclosed "[" at position 3: the JSONPath query ends before its "]"');
      assertTokenError("$.a['x == 1", 'unterminated string starting at position 4');
    });
  });

  describe('literals', () => {
    const value = (expression: string) => {
      const token = tokenize(expression)[0];
      assert.equal(token.kind, 'literal');
      return token.value;
    };

    it('reads single- and double-quoted strings with escapes', () => {
      assert.equal(value("'it\\'s'"), "it's");
      assert.equal(value('"say \\"hi\\""'), 'say "hi"');
      assert.equal(value(String.raw`'\b\f\n\r\t\/\\'`), '\b\f\n\r\t/\\');
      assert.equal(value(String.raw`"\u00e9\uD83D\uDE00"`), 'é😀');
      assert.equal(value(`"it's"`), "it's");
      assert.equal(value(`'say "hi"'`), 'say "hi"');
    });

    it('keeps operators inside strings as text', () => {
      assert.deepEqual(kinds("$.a == 'x && y || !z'"), ['query:$.a', 'comparison:==', "literal:'x && y || !z'", 'end']);
    });

    it('reads numbers', () => {
      assert.equal(value('0'), 0);
      assert.equal(value('-12'), -12);
      assert.equal(value('3.25'), 3.25);
      assert.equal(value('1e3'), 1000);
      assert.equal(value('2.5E-2'), 0.025);
    });

    it('reads true, false and null', () => {
      assert.equal(value('true'), true);
      assert.equal(value('false'), false);
      assert.equal(value('null'), null);
    });

    it('rejects malformed strings and numbers, saying where', () => {
      assertTokenError("$.a == 'abc", 'unterminated string starting at position 7');
      assertTokenError("$.a == 'a\\x'", 'unknown escape "\\x" at position 9');
      assertTokenError("$.a == '\\u12G4'", 'invalid escape "\\u12G4" at position 8; "\\u" needs four hex digits');
      assertTokenError('$.a == 01', 'malformed number at position 7: unexpected "1" after "0"');
      assertTokenError('$.a == 1.', 'malformed number at position 7: unexpected "." after "1"');
      assertTokenError('$.a == 1abc', 'malformed number at position 7: unexpected "a" after "1"');
      assertTokenError('$.a == -x', 'expected a digit after "-" at position 7');
    });

    it('keeps numbers a double cannot hold exactly as written (ExactNumber), instead of rounding them or refusing 1e999', () => {
      for (const text of ['12345678901234567890', '-9007199254740993', '1e999', '1e-400']) {
        const read = value(text);
        assert.ok(read instanceof ExactNumber, text);
        assert.equal(String(read), text);
      }
      assert.equal(value('9007199254740992'), 9007199254740992);
      assert.equal(value('1.5e3'), 1500);
    });
  });

  it('rejects unknown words and characters with a hint', () => {
    assertTokenError('$.a == yes', 'unexpected "yes" at position 7; strings must be quoted and queries start with "$"');
    assertTokenError('$.a = 1', 'unexpected character "=" at position 4; use "==" to compare');
    assertTokenError('$.a & $.b', 'unexpected character "&" at position 4; use "&&" for "and"');
    assertTokenError('$.a | $.b', 'unexpected character "|" at position 4; use "||" for "or"');
    assertTokenError('@.a', /^unexpected character "@" at position 0; queries start with "\$"/);
    assertTokenError('$.a == 1 #', 'unexpected character "#" at position 9');
  });
});
