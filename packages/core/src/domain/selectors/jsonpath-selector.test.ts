import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { compileSelector } from './compile.ts';
import { MAX_COMPARED_PAIRS, MAX_NODES_PER_QUERY } from './limits.ts';
import { assertInvalid, jsonpath, matches } from './test-helpers.ts';

const order = {
  event_type: 'order.created',
  amount: 150,
  amount_text: '100',
  one_text: '1',
  paid: true,
  coupon: null,
  customer: { tier: 'gold', name: "O'Brien & Sons", address: { city: 'Zürich' } },
  items: [
    { sku: 'A-1', price: 3, tags: ['sale'] },
    { sku: 'B-2', price: 10, tags: [] },
    { sku: 'C-3', price: 25, tags: ['new', 'sale'] },
  ],
  'odd key': { 'a.b': 1 },
  shipping: { address: { city: 'Zürich' } },
};

const check = (expression: string, payload: Record<string, unknown> = order) => matches(jsonpath(expression), payload);

describe('jsonpath selector', () => {
  describe('comparisons', () => {
    it('matches the example from the API', () => {
      assert.equal(check("$.event_type == 'order.created' && $.amount > 100"), true);
      assert.equal(check("$.event_type == 'order.created' && $.amount > 200"), false);
    });

    it('supports every comparison operator on numbers', () => {
      const cases: [string, boolean][] = [
        ['$.amount == 150', true], ['$.amount == 151', false],
        ['$.amount != 151', true], ['$.amount != 150', false],
        ['$.amount > 149', true], ['$.amount > 150', false],
        ['$.amount >= 150', true], ['$.amount >= 151', false],
        ['$.amount < 151', true], ['$.amount < 150', false],
        ['$.amount <= 150', true], ['$.amount <= 149', false],
        ['$.amount == 1.5e2', true], ['$.amount > -1', true],
      ];
      for (const [expression, expected] of cases) assert.equal(check(expression), expected, expression);
    });

    it('orders strings', () => {
      assert.equal(check("$.customer.tier > 'g'"), true);
      assert.equal(check("$.customer.tier < 'gold'"), false);
      assert.equal(check("$.customer.tier <= 'gold'"), true);
    });

    it('compares booleans and null for equality', () => {
      assert.equal(check('$.paid == true'), true);
      assert.equal(check('$.paid == false'), false);
      assert.equal(check('$.coupon == null'), true);
      assert.equal(check('$.missing == null'), false);
    });

    it('accepts a literal on the left', () => {
      assert.equal(check('100 < $.amount'), true);
      assert.equal(check("'order.created' == $.event_type"), true);
    });

    it('compares two queries, deeply for objects and arrays', () => {
      assert.equal(check('$.customer.address == $.shipping.address'), true);
      assert.equal(check('$.customer.address != $.shipping.address'), false);
      assert.equal(check('$.items[0].tags == $.items[0].tags'), true);
      assert.equal(check('$.items[0].tags == $.items[2].tags'), false);
      assert.equal(check('$.items[2].price > $.items[1].price'), true);
    });

    it('compares literals with each other', () => {
      assert.equal(check('1 == 1'), true);
      assert.equal(check("'a' > 'b'"), false);
    });
  });

  describe('no type coercion', () => {
    it('never orders a string against a number', () => {
      assert.equal(check('$.amount_text > 5'), false);
      assert.equal(check('$.amount_text < 5'), false);
      assert.equal(check("$.amount > '5'"), false);
    });

    it('never equates values of different types', () => {
      assert.equal(check('$.one_text == 1'), false);
      assert.equal(check("$.amount == '150'"), false);
      assert.equal(check('$.paid == 1'), false);
      assert.equal(check('$.coupon == false'), false);
      assert.equal(check("$.coupon == 'null'"), false);
    });

    it('orders only numbers with numbers and strings with strings', () => {
      assert.equal(check('$.paid > false'), false);
      assert.equal(check('$.coupon >= null'), false);
      assert.equal(check('$.items >= $.items'), false);
      assert.equal(check('$.customer > 1'), false);
    });
  });

  describe('missing fields', () => {
    it('makes every comparison false except "!="', () => {
      for (const operator of ['==', '>', '>=', '<', '<=']) assert.equal(check(`$.missing ${operator} 1`), false, operator);
      assert.equal(check('$.missing != 1'), true);
      assert.equal(check('$.missing == $.also_missing'), false);
    });

    it('makes "!=" exactly "!(==)", as in the custom selector', () => {
      for (const expression of ['$.missing != 1', '$.amount != 1', '$.amount != 150', "$.items[*].sku != 'A-1'"]) {
        const inner = expression.replace('!=', '==');
        assert.equal(check(expression), !check(inner), expression);
        assert.equal(check(expression), check(`!(${inner})`), expression);
      }
    });
  });

  describe('quoted strings', () => {
    it('handles escapes in single- and double-quoted strings', () => {
      assert.equal(check("$.customer.name == 'O\\'Brien & Sons'"), true);
      assert.equal(check('$.customer.name == "O\'Brien & Sons"'), true);
      assert.equal(check('$.customer.address.city == "Z\\u00fcrich"'), true);
      assert.equal(matches(jsonpath(String.raw`$.text == "line\nnext \"q\" \\ \/"`), { text: 'line\nnext "q" \\ /' }), true);
    });

    it('treats "&&", "||", "!" and parentheses inside quotes as text', () => {
      assert.equal(check("$.customer.name == 'O\\'Brien & Sons' && $.amount > 1"), true);
      assert.equal(matches(jsonpath("$.note == 'a && b || !(c)'"), { note: 'a && b || !(c)' }), true);
      assert.equal(matches(jsonpath("$.note == 'a && b' || $.x"), { note: 'a' }), false);
    });
  });

  describe('boolean grammar', () => {
    it('gives "&&" precedence over "||"', () => {
      assert.equal(check('$.missing && $.amount || $.amount'), true); // (false && true) || true
      assert.equal(check('$.amount || $.missing && $.missing'), true); // true || (false && false)
      assert.equal(check('($.amount || $.missing) && $.missing'), false);
    });

    it('negates queries and groups', () => {
      assert.equal(check('!$.missing'), true);
      assert.equal(check('!$.amount'), false);
      assert.equal(check('!($.amount > 100 && $.paid == true)'), false);
      assert.equal(check('!($.amount > 200) && !!$.paid'), true);
    });

    it('evaluates nested parentheses', () => {
      assert.equal(check("(($.amount > 100) && ($.customer.tier == 'gold' || $.customer.tier == 'silver')) || $.missing"), true);
      assert.equal(check("($.amount > 100 && ($.customer.tier == 'bronze' || $.customer.tier == 'silver')) || $.missing"), false);
    });
  });

  describe('bare queries mean "exists"', () => {
    it('is true when the query selects at least one node, whatever its value', () => {
      assert.equal(check('$.coupon'), true);
      assert.equal(check('$.paid'), true);
      assert.equal(check('$.items[1].tags'), true); // an empty array is still a node
      assert.equal(check('$.missing'), false);
      assert.equal(check('$.items[5]'), false);
      assert.equal(check('$'), true);
    });

    it('works with non-singular queries', () => {
      assert.equal(check('$.items[?@.price > 20]'), true);
      assert.equal(check('$.items[?@.price > 100]'), false);
      assert.equal(check('$..city'), true);
      assert.equal(check('$..zip'), false);
    });
  });

  describe('queries', () => {
    it('uses filters inside queries, with brackets and quotes in them', () => {
      assert.equal(check("$.items[?@.price > 5 && @.sku != 'B-2'].sku == 'C-3'"), true);
      assert.equal(check("$.items[?@.tags[0] == 'new'].price == 25"), true);
      assert.equal(check("$.items[?@.sku == ']'].price"), false);
      assert.equal(check('$.items[?count(@.tags[*]) == 2].sku == "C-3"'), true);
      assert.equal(check('$.items[?length(@.sku) == 3]'), true);
      assert.equal(check('$.items[?value(@.tags[0]) == "sale"].price == 3'), true);
    });

    it('uses bracketed names, negative indices, slices and wildcards', () => {
      assert.equal(check("$['odd key']['a.b'] == 1"), true);
      assert.equal(check('$.items[-1].sku == "C-3"'), true);
      assert.equal(check('$.items[-4]'), false);
      assert.equal(check('$.items[0:2].price == 10'), true);
      assert.equal(check('$.items[0:2].price == 25'), false);
      assert.equal(check('$.customer.* == "gold"'), true);
      assert.equal(check("$ .customer .tier == 'gold'"), true);
    });

    it('does not select by name in arrays or by index in objects', () => {
      assert.equal(check('$.items.length'), false);
      assert.equal(check('$.customer[0]'), false);
      assert.equal(matches(jsonpath("$['0']"), { 0: 'x' }), true);
      assert.equal(matches(jsonpath('$[0]'), { 0: 'x' }), false);
    });

    it('never reads inherited properties', () => {
      assert.equal(check('$.constructor'), false);
      assert.equal(check("$['__proto__']"), false);
      assert.equal(check('$.items.constructor'), false);
    });

    it('is true for a multi-node comparison when ANY node satisfies it', () => {
      assert.equal(check('$.items[*].price > 20'), true);
      assert.equal(check('$.items[*].price > 30'), false);
      assert.equal(check("$.items[*].sku == 'B-2'"), true);
      assert.equal(check("$..tags[*] == 'new'"), true);
      assert.equal(check('$.items[*].price == $.items[*].price'), true);
    });

    it('is false for a multi-node comparison with no nodes, and "!=" is then true', () => {
      assert.equal(check('$.items[?@.price > 100].price > 0'), false);
      assert.equal(check('$.items[?@.price > 100].price != 0'), true);
      assert.equal(check("$.items[*].sku != 'B-2'"), false); // some sku is B-2, so "==" holds
    });
  });

  describe('evaluation bounds', () => {
    const many = (count: number) => ({ values: Array.from({ length: count }, () => 1) });

    it(`compares up to ${MAX_NODES_PER_QUERY} nodes of one query`, () => {
      assert.equal(check('$.values[*] == 1', many(MAX_NODES_PER_QUERY)), true);
    });

    it(`treats a comparison over more than ${MAX_NODES_PER_QUERY} nodes as false, so "!=" is true`, () => {
      assert.equal(check('$.values[*] == 1', many(MAX_NODES_PER_QUERY + 1)), false);
      assert.equal(check('$.values[*] != 1', many(MAX_NODES_PER_QUERY + 1)), true);
    });

    it('still answers "exists" for a query with more nodes', () => {
      assert.equal(check('$.values[*]', many(MAX_NODES_PER_QUERY * 5)), true);
    });

    it(`treats a query-to-query comparison over ${MAX_COMPARED_PAIRS} node pairs as false`, () => {
      const pairs = (n: number) => ({ a: Array.from({ length: n }, (_, i) => i), b: Array.from({ length: n }, (_, i) => -i) });
      assert.equal(check('$.a[*] == $.b[*]', pairs(Math.floor(Math.sqrt(MAX_COMPARED_PAIRS)))), true); // 0 == -0
      assert.equal(check('$.a[*] == $.b[*]', pairs(Math.floor(Math.sqrt(MAX_COMPARED_PAIRS)) + 1)), false);
    });

    it('stays linear on a large, deep payload (about 256 KiB of JSON)', () => {
      // 3,000 levels deep: a traversal that copies each node's path would take seconds here.
      let deep: Record<string, unknown> = { x: 1 };
      for (let i = 0; i < 3_000; i++) deep = { a: deep, list: [i, { x: i }] };
      const wide = { rows: Array.from({ length: 5_000 }, (_, i) => ({ id: i, tags: ['t'] })) };
      const payload = { deep, wide };
      assert.ok(JSON.stringify(payload).length < 300_000);
      const started = performance.now();
      assert.equal(check('$..x == -1', payload), false);
      assert.equal(check('$..[?@.x == -1]', payload), false);
      assert.equal(check('$.wide.rows[?@.tags[0] == "u"]', payload), false);
      assert.equal(check('$..*', payload), true);
      const elapsed = performance.now() - started;
      assert.ok(elapsed < 1_500, `took ${elapsed.toFixed(0)} ms`);
    });
  });

  describe('validation', () => {
    it('rejects a malformed expression with the position and the problem', () => {
      assertInvalid(jsonpath("$.event_type == "), 'expression: expected a query or a literal after "==" at position 16, found the end of the expression');
      assertInvalid(jsonpath('$.amount >> 5'), 'expression: expected a query or a literal after ">" at position 10, found ">"');
      assertInvalid(jsonpath("$.a == 'x"), 'expression: unterminated string starting at position 7');
      assertInvalid(jsonpath('$.a == 1 && ($.b'), 'expression: expected ")" at position 16 to close the "(" at position 12, found the end of the expression');
    });

    it('validates each query with the RFC 9535 parser when the selector is saved', () => {
      assertInvalid(jsonpath('$.a && $.'), /^expression: invalid JSONPath query "\$\." at position 7: Expected .* but end of input found \(at position 9\)$/);
      assertInvalid(jsonpath('$[01] == 1'), /^expression: invalid JSONPath query "\$\[01\]" at position 0: Expected .* but "1" found \(at position 3\)$/);
      assertInvalid(jsonpath('$.items[?@.price >] == 1'), /^expression: invalid JSONPath query "\$\.items\[\?@\.price >\]" at position 0: /);
      assertInvalid(jsonpath('$.a[?@.b == @.*]'), /^expression: invalid JSONPath query .* at position 0: /);
    });

    it('rejects ill-typed and unknown function calls, which the library would quietly treat as false', () => {
      assertInvalid(jsonpath('$[?length(@.*) > 1]'), /^expression: JSONPath query "\$\[\?length\(@\.\*\) > 1\]" at position 0: length\(\) takes a single value/);
      assertInvalid(jsonpath('$[?count(1) > 1]'), /count\(\) takes a query, as in count\(@\.items\[\*\]\)$/);
      assertInvalid(jsonpath('$[?length(@.a)]'), /length\(\) returns a value, not a boolean; compare it/);
      assertInvalid(jsonpath('$[?foo(@.a)]'), /unknown function foo\(\); available: length, count, value$/);
      assertInvalid(jsonpath('$[?length(@.a, @.b) > 1]'), /length\(\) takes exactly one argument, got 2$/);
    });

    it('rejects match() and search(), which would run a backtracking regex', () => {
      assertInvalid(jsonpath("$.items[?match(@.sku, '(a+)+$')]"), /match\(\) is not supported: it runs a backtracking regular expression; use a custom selector with the "matches" operator/);
      assertInvalid(jsonpath("$.items[?search(@.sku, 'A')]"), /search\(\) is not supported/);
    });

    it('rejects queries whose work is not linear in the payload', () => {
      assertInvalid(jsonpath('$..a..b'), /^expression: JSONPath query "\$\.\.a\.\.b" at position 0: 2 "\.\." segments \(counting those in filters\); at most 1 is allowed/);
      assertInvalid(jsonpath('$..[?@..x]'), /2 "\.\." segments/);
      assertInvalid(jsonpath('$[*,*][*,*][*,*][*,*][*,*]'), /its bracketed selections multiply to 32 selectors \(counting those in filters\); at most 16 are allowed/);
      assertInvalid(jsonpath('$.items[?$.items[*]]'), /a query starting with "\$" inside a filter must select a single value/);
      assert.equal(check('$.items[?@.price == $.items[1].price].sku == "B-2"'), true);
      assert.equal(check("$['amount','paid'] == true"), true);
    });

    it('reports the position of the offending query in a longer expression', () => {
      assertInvalid(jsonpath('$.amount > 1 && $..a..b'), /^expression: JSONPath query "\$\.\.a\.\.b" at position 16: /);
    });

    it('rejects an expression over 4096 characters and accepts one of 4096', () => {
      const padded = (length: number) => `$.amount${' '.repeat(length - '$.amount > 1'.length)} > 1`;
      assert.equal(check(padded(4096)), true);
      assertInvalid(jsonpath(padded(4097)), 'expression: is 4097 characters long; at most 4096 are allowed');
    });

    it('rejects more than 64 queries and parentheses deeper than 32', () => {
      const queries = Array.from({ length: 65 }, (_, i) => `$.f${i}`).join(' || ');
      assertInvalid(jsonpath(queries), /^expression: too many queries: at most 64 are allowed/);
      assertInvalid(jsonpath(`${'('.repeat(33)}$.a${')'.repeat(33)}`), 'expression: parentheses nest more than 32 deep at position 32');
    });

    it('rejects a missing or non-string expression and unknown keys', () => {
      assertInvalid({ type: 'jsonpath' }, 'expression: is required');
      assertInvalid({ type: 'jsonpath', expression: { path: '$.a' } }, 'expression: expected a string, got object');
      assertInvalid({ type: 'jsonpath', expression: '$.a', path: '$.b' }, 'path: unknown key; a "jsonpath" selector has only "type" and "expression"');
    });
  });

  it('keeps the expression as the source', () => {
    assert.deepEqual(compileSelector(jsonpath('$.a == 1')).source, { type: 'jsonpath', expression: '$.a == 1' });
  });
});
