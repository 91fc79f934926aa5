import assert from 'node:assert/strict';
import { query } from 'jsonpath-rfc9535';
import parseJsonPath from 'jsonpath-rfc9535/parser';
import { describe, it } from 'mocha';
import { jsonpath, matches } from '../test-helpers.ts';
import { hasLostIndex, rewriteForLibrary } from './library-workarounds.ts';

const items = [
  { sku: 'A', price: 3, tags: ['sale'] },
  { sku: 'B', price: 10, tags: ['new'] },
  { sku: 'C', price: 25, tags: ['new', 'sale'] },
];

describe('jsonpath-rfc9535 workarounds', () => {
  describe('the library bugs they avoid (when these fail, the library is fixed: remove the workarounds)', () => {
    it('still reads "a && b && c" as "a && (b || c)"', () => {
      assert.deepEqual(query(items, '$[?@.price > 1 && @.price > 5 && @.price > 20].sku'), ['B', 'C']);
    });

    it('still loses the index of a singular query in a comparison', () => {
      assert.deepEqual(query(items, "$[?@.tags[0] == 'new'].sku"), []);
      assert.equal(hasLostIndex(parseJsonPath("$[?@.tags[0] == 'new']")), true);
    });
  });

  describe('rewriting', () => {
    it('groups "&&" chains of three or more in pairs', () => {
      assert.equal(rewriteForLibrary('$[?@.a && @.b && @.c]'), '$[?@.a &&( @.b && @.c)]');
      assert.equal(rewriteForLibrary('$[?@.a&&@.b&&@.c&&@.d]'), '$[?@.a&&(@.b&&(@.c&&@.d))]');
    });

    it('leaves pairs, "||" chains and "&&" inside strings alone', () => {
      for (const text of ['$[?@.a && @.b]', '$[?@.a || @.b || @.c]', "$[?@.a == 'x && y && z' && @.b]", '$[?@.a && @.b || @.c && @.d]', '$.a.b[0]']) {
        assert.equal(rewriteForLibrary(text), text);
      }
    });

    it('groups chains separately per parenthesis, filter and function argument', () => {
      assert.equal(rewriteForLibrary('$[?(@.a && @.b && @.c) || @.d]'), '$[?(@.a &&( @.b && @.c)) || @.d]');
      assert.equal(rewriteForLibrary('$[?@.x[?@.a && @.b && @.c] && @.y]'), '$[?@.x[?@.a &&( @.b && @.c)] && @.y]');
    });

    it('wraps indexed singular queries in comparisons with value()', () => {
      assert.equal(rewriteForLibrary("$[?@.tags[0] == 'new']"), "$[?value(@.tags[0]) == 'new']");
      assert.equal(rewriteForLibrary('$[?1 < @[0]]'), '$[?1 < value(@[0])]');
      assert.equal(rewriteForLibrary("$[?@['a'][-1].b>=$.x[2]]"), "$[?value(@['a'][-1].b)>=value($.x[2])]");
    });

    it('leaves queries without an index, non-singular ones, tests and function arguments alone', () => {
      for (const text of ["$[?@.tags == 'x']", '$[?@.tags[0]]', '$[?length(@.tags[0]) > 1]', '$[?@.a[*] == 1]', '$[?@.a[0, 1] == 1]', '$[?@.a[0][*]]']) {
        assert.equal(rewriteForLibrary(text), text);
      }
    });

    it('combines both rewrites at one offset in the right order', () => {
      assert.equal(rewriteForLibrary('$[?@.a &&@.b[0] == 1 && @.c]'), '$[?@.a &&(value(@.b[0]) == 1 && @.c)]');
    });
  });

  describe('selectors evaluate filters correctly despite the bugs', () => {
    const payload = { items };
    const check = (expression: string) => matches(jsonpath(expression), payload);

    it('applies every operand of an "&&" chain', () => {
      assert.equal(check("$.items[?@.price > 1 && @.price > 5 && @.price > 20].sku == 'C'"), true);
      assert.equal(check("$.items[?@.price > 1 && @.price > 5 && @.price > 20].sku == 'B'"), false);
      assert.equal(check('$.items[?@.price > 1 && @.price > 5 && @.price > 20 && @.price > 30]'), false);
      assert.equal(check("$.items[?@.price > 1 && @.price < 5 || @.sku == 'C' && @.price > 5 && @.price < 10]"), true);
    });

    it('compares indexed singular queries inside filters', () => {
      assert.equal(check("$.items[?@.tags[0] == 'new'].sku == 'B'"), true);
      assert.equal(check("$.items[?@.tags[-1] == 'sale'].sku == 'C'"), true);
      assert.equal(check("$.items[?@.tags[1] == 'new']"), false);
      assert.equal(check('$.items[?@.price == $.items[1].price].sku == "B"'), true);
      assert.equal(check('$.items[?@.tags[5] != 1].sku == "A"'), true);
    });
  });
});
