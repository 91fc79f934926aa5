import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { compileSelector } from './compile.ts';
import { assertInvalid, custom, matches } from './test-helpers.ts';

const payload = {
  event_type: 'order.created',
  amount: 150,
  currency: 'EUR',
  paid: true,
  coupon: null,
  tags: ['vip', 'new', { kind: 'gift' }],
  customer: { tier: 200, name: 'Ada Lovelace', email: 'ada@example.com', address: { city: 'London' } },
  items: [
    { sku: 'A-1', price: 3 },
    { sku: 'B-2', price: 10 },
  ],
  matrix: [[1, 2], [3, 4]],
  '0': 'zero key',
};

/** Asserts one operator: the values it matches and the values it does not. */
function assertOperator(operator: string, value: unknown, matching: Record<string, unknown>, failing: Record<string, unknown>) {
  for (const [field, expected] of [...Object.keys(matching).map((f) => [f, true] as const), ...Object.keys(failing).map((f) => [f, false] as const)]) {
    const fields = expected ? matching : failing;
    assert.equal(matches(custom('x', operator, value), { x: fields[field] }), expected, `${JSON.stringify(fields[field])} ${operator} ${JSON.stringify(value)}`);
  }
}

describe('custom selector', () => {
  describe('field paths', () => {
    it('reads top-level and nested fields', () => {
      assert.equal(matches(custom('amount', 'equals', 150), payload), true);
      assert.equal(matches(custom('customer.address.city', 'equals', 'London'), payload), true);
    });

    it('indexes arrays with numeric segments', () => {
      assert.equal(matches(custom('items.1.price', 'equals', 10), payload), true);
      assert.equal(matches(custom('items.0.sku', 'equals', 'A-1'), payload), true);
      assert.equal(matches(custom('matrix.1.0', 'equals', 3), payload), true);
      assert.equal(matches(custom('tags.2.kind', 'equals', 'gift'), payload), true);
    });

    it('treats an out-of-range or non-numeric array segment as missing', () => {
      assert.equal(matches(custom('items.2', 'exists'), payload), false);
      assert.equal(matches(custom('items.price', 'exists'), payload), false);
      assert.equal(matches(custom('items.length', 'exists'), payload), false);
      assert.equal(matches(custom('items.-1', 'exists'), payload), false);
      assert.equal(matches(custom('items.01', 'exists'), payload), false);
    });

    it('treats a numeric segment as an ordinary key in an object', () => {
      assert.equal(matches(custom('0', 'equals', 'zero key'), payload), true);
    });

    it('treats a path through a primitive as missing', () => {
      assert.equal(matches(custom('amount.value', 'exists'), payload), false);
      assert.equal(matches(custom('currency.length', 'exists'), payload), false);
    });

    it('sees only own properties, never the prototype', () => {
      for (const field of ['constructor', 'toString', '__proto__', 'customer.hasOwnProperty']) {
        assert.equal(matches(custom(field, 'exists'), payload), false, field);
      }
    });

    it('reads a "__proto__" key that JSON.parse created as an own property', () => {
      const parsed = JSON.parse('{"__proto__": {"x": 1}}') as Record<string, unknown>;
      assert.equal(matches(custom('__proto__.x', 'equals', 1), parsed), true);
    });

    it('treats null as a present value', () => {
      assert.equal(matches(custom('coupon', 'exists'), payload), true);
      assert.equal(matches(custom('coupon', 'equals', null), payload), true);
      assert.equal(matches(custom('coupon.code', 'exists'), payload), false);
    });
  });

  describe('operators', () => {
    it('equals: same type and value; deep equality for objects and arrays', () => {
      assertOperator('equals', 5, { a: 5, b: 5.0 }, { a: 6, b: '5', c: [5], d: null, e: true });
      assertOperator('equals', 'x', { a: 'x' }, { a: 'X', b: ['x'], c: 0 });
      assertOperator('equals', true, { a: true }, { a: 1, b: 'true', c: false });
      assertOperator('equals', null, { a: null }, { a: 0, b: '', c: false, d: 'null' });
      assertOperator('equals', { b: [1, 2], a: 1 }, { a: { a: 1, b: [1, 2] } }, { a: { a: 1, b: [2, 1] }, b: { a: 1 }, c: { a: 1, b: [1, 2], c: 3 } });
      assertOperator('equals', [1, { x: 'y' }], { a: [1, { x: 'y' }] }, { a: [1], b: [{ x: 'y' }, 1], c: { 0: 1, 1: { x: 'y' } } });
    });

    it('not_equals: exactly the negation of equals', () => {
      assertOperator('not_equals', 5, { a: 6, b: '5', c: null, d: [5] }, { a: 5 });
      assertOperator('not_equals', { a: 1 }, { a: { a: 2 } }, { a: { a: 1 } });
    });

    it('greater_than / greater_than_or_equal / less_than / less_than_or_equal on numbers', () => {
      assertOperator('greater_than', 100, { a: 101, b: 100.5 }, { a: 100, b: 99, c: -1 });
      assertOperator('greater_than_or_equal', 100, { a: 100, b: 1e3 }, { a: 99.99 });
      assertOperator('less_than', 100, { a: 99, b: -5 }, { a: 100, b: 101 });
      assertOperator('less_than_or_equal', 100, { a: 100, b: 0 }, { a: 100.01 });
    });

    it('ordering operators on strings compare lexicographically', () => {
      assertOperator('greater_than', 'b', { a: 'c', b: 'ba' }, { a: 'b', b: 'a', c: 'B' });
      assertOperator('less_than_or_equal', '2026-01-15', { a: '2026-01-15', b: '2025-12-31' }, { a: '2026-01-16' });
    });

    it('ordering operators never coerce: a string and a number are unordered', () => {
      for (const operator of ['greater_than', 'greater_than_or_equal', 'less_than', 'less_than_or_equal']) {
        assert.equal(matches(custom('x', operator, 5), { x: '100' }), false, `"100" ${operator} 5`);
        assert.equal(matches(custom('x', operator, 5), { x: '1' }), false, `"1" ${operator} 5`);
        assert.equal(matches(custom('x', operator, '5'), { x: 100 }), false, `100 ${operator} "5"`);
        assert.equal(matches(custom('x', operator, 0), { x: null }), false, `null ${operator} 0`);
        assert.equal(matches(custom('x', operator, 0), { x: false }), false, `false ${operator} 0`);
        assert.equal(matches(custom('x', operator, 1), { x: [5] }), false, `[5] ${operator} 1`);
      }
    });

    it('contains: a substring of a string', () => {
      assertOperator('contains', 'Love', { a: 'Ada Lovelace', b: 'Love' }, { a: 'Ada', b: 'LOVE', c: 'ada lovelace' });
    });

    it('contains: a deep-equal element of an array', () => {
      assertOperator('contains', 'vip', { a: ['new', 'vip'] }, { a: ['vips'], b: [['vip']], c: [] });
      assertOperator('contains', { kind: 'gift' }, { a: [1, { kind: 'gift' }] }, { a: [{ kind: 'gift', extra: 1 }] });
      assertOperator('contains', 5, { a: [5] }, { a: ['5'], b: [[5]] });
    });

    it('contains: false for other combinations, without coercion', () => {
      assertOperator('contains', 5, {}, { a: '12345', b: 5, c: { 5: 5 } });
      assertOperator('contains', 'a', {}, { a: { a: 1 }, b: null });
    });

    it('not_contains: exactly the negation of contains', () => {
      assertOperator('not_contains', 'vip', { a: ['new'], b: 'VIP', c: 42 }, { a: ['vip'], b: 'a vip' });
    });

    it('starts_with and ends_with: strings only', () => {
      assertOperator('starts_with', 'order.', { a: 'order.created', b: 'order.' }, { a: 'xorder.created', b: ['order.x'], c: 5 });
      assertOperator('ends_with', '@example.com', { a: 'ada@example.com' }, { a: 'ada@example.com.evil', b: null });
      assertOperator('starts_with', '', { a: '' , b: 'x' }, { a: 0 });
    });

    it('in: equal to one of the listed values', () => {
      assertOperator('in', ['gold', 'platinum', 3, null], { a: 'gold', b: 3, c: null }, { a: 'silver', b: '3', c: 'Gold', d: ['gold'] });
      assertOperator('in', [{ a: 1 }, [1, 2]], { a: { a: 1 }, b: [1, 2] }, { a: { a: 2 }, b: [2, 1] });
    });

    it('not_in: exactly the negation of in', () => {
      assertOperator('not_in', ['gold', 1], { a: 'silver', b: '1', c: true }, { a: 'gold', b: 1 });
    });

    it('exists and not_exists', () => {
      for (const present of [0, null, '', false, [], {}]) assert.equal(matches(custom('x', 'exists'), { x: present }), true, JSON.stringify(present));
      assert.equal(matches(custom('customer.tier', 'exists'), payload), true);
      assert.equal(matches(custom('customer.rank', 'exists'), payload), false);
      assert.equal(matches(custom('customer.tier', 'not_exists'), payload), false);
      assert.equal(matches(custom('customer.rank', 'not_exists'), payload), true);
      assert.equal(matches(custom('coupon', 'not_exists'), payload), false);
    });

    it('matches: a linear-time regex searched anywhere in a string field', () => {
      assertOperator('matches', '^order\\.(created|updated)$', { a: 'order.created', b: 'order.updated' }, { a: 'order.deleted', b: 'xorder.created' });
      assertOperator('matches', '\\d{3}', { a: 'abc123' }, { a: 'ab12' });
      assertOperator('matches', '(?i)^ada', { a: 'ADA L' }, { a: ' ada' });
    });

    it('matches: false for a non-string field, without coercion', () => {
      assertOperator('matches', '^1', {}, { a: 100, b: ['1'], c: null, d: true });
    });
  });

  describe('missing field', () => {
    const missingIsTrue = new Set(['not_exists', 'not_equals', 'not_contains', 'not_in']);
    const values: Record<string, unknown> = {
      equals: 1, not_equals: 1, greater_than: 1, greater_than_or_equal: 1, less_than: 1, less_than_or_equal: 1,
      contains: 'a', not_contains: 'a', starts_with: 'a', ends_with: 'a', in: [1], not_in: [1], matches: '.*',
    };

    for (const operator of [...Object.keys(values), 'exists', 'not_exists']) {
      const expected = missingIsTrue.has(operator);
      it(`${operator} is ${expected} on a missing field`, () => {
        const selector = operator in values ? custom('customer.rank', operator, values[operator]) : custom('customer.rank', operator);
        assert.equal(matches(selector, payload), expected);
        assert.equal(matches(selector, {}), expected);
      });
    }
  });

  describe('validation', () => {
    it('rejects an unknown operator and names it', () => {
      assertInvalid(custom('a', 'bigger', 1), /^function\.operator: unknown operator "bigger"; expected one of equals, not_equals, .*matches$/);
    });

    it('rejects a missing or non-string operator', () => {
      assertInvalid({ type: 'custom', function: { field: 'a', value: 1 } }, 'function.operator: is required');
      assertInvalid({ type: 'custom', function: { field: 'a', operator: 3, value: 1 } }, 'function.operator: expected a string, got number');
    });

    it('rejects a missing, non-string or empty field', () => {
      assertInvalid({ type: 'custom', function: { operator: 'exists' } }, 'function.field: is required');
      assertInvalid(custom(5 as unknown as string, 'exists'), 'function.field: expected a string, got number');
      assertInvalid(custom('', 'exists'), 'function.field: must not be empty');
    });

    it('rejects empty path segments', () => {
      assertInvalid(custom('customer..tier', 'exists'), 'function.field: segment 2 of "customer..tier" is empty');
      assertInvalid(custom('.tier', 'exists'), 'function.field: segment 1 of ".tier" is empty');
      assertInvalid(custom('tier.', 'exists'), 'function.field: segment 2 of "tier." is empty');
    });

    it('rejects a field over 1024 characters', () => {
      assertInvalid(custom('a'.repeat(1025), 'exists'), 'function.field: is 1025 characters long; at most 1024 are allowed');
    });

    it('rejects a value for exists and not_exists, even null', () => {
      assertInvalid(custom('a', 'exists', true), 'function.value: "exists" takes no value; remove "value"');
      assertInvalid(custom('a', 'not_exists', null), 'function.value: "not_exists" takes no value; remove "value"');
    });

    it('requires a value for every other operator', () => {
      for (const operator of ['equals', 'not_equals', 'greater_than', 'contains', 'starts_with', 'in', 'matches']) {
        assertInvalid(custom('a', operator), `function.value: is required for "${operator}"`);
      }
    });

    it('checks the value type where the operator fixes it', () => {
      assertInvalid(custom('a', 'starts_with', 5), 'function.value: "starts_with" needs a string, got number');
      assertInvalid(custom('a', 'ends_with', ['x']), 'function.value: "ends_with" needs a string, got array');
      assertInvalid(custom('a', 'greater_than', true), 'function.value: "greater_than" needs a number or a string, got boolean');
      assertInvalid(custom('a', 'less_than_or_equal', null), 'function.value: "less_than_or_equal" needs a number or a string, got null');
      assertInvalid(custom('a', 'in', 'gold'), 'function.value: "in" needs an array of values, got string');
      assertInvalid(custom('a', 'not_in', { gold: true }), 'function.value: "not_in" needs an array of values, got object');
      assertInvalid(custom('a', 'matches', 5), 'function.value: "matches" needs a regular expression string, got number');
    });

    it('accepts any JSON value for equals and contains', () => {
      for (const value of [1, 'x', true, null, [1, [2]], { a: { b: null } }]) {
        assert.doesNotThrow(() => matches(custom('a', 'equals', value), {}));
        assert.doesNotThrow(() => matches(custom('a', 'contains', value), {}));
      }
    });

    it('rejects values that are not JSON', () => {
      assertInvalid(custom('a', 'equals', Number.NaN), 'function.value: NaN is not a JSON number');
      assertInvalid(custom('a', 'in', [1, Infinity]), 'function.value[1]: Infinity is not a JSON number');
      assertInvalid(custom('a', 'equals', { f: () => 1 }), 'function.value.f: function is not a JSON value');
      assertInvalid(custom('a', 'equals', new Date(0)), 'function.value: not a JSON value');
    });

    it('rejects a value nested deeper than 32 levels', () => {
      let deep: unknown = 1;
      for (let i = 0; i < 40; i++) deep = [deep];
      assertInvalid(custom('a', 'equals', deep), /^function\.value(\[0\])+: nested too deeply$/);
    });

    it('rejects an invalid regular expression', () => {
      assertInvalid(custom('a', 'matches', '(unclosed'), /^function\.value: invalid regular expression: missing closing \)/);
    });

    it('rejects back-references and lookaround with a clear message', () => {
      assertInvalid(custom('a', 'matches', '(a)\\1'), /^function\.value: back-reference \\1 at position 3 is not supported: .*linear-time RE2 dialect/);
      assertInvalid(custom('a', 'matches', 'x(?=a)'), /^function\.value: lookahead \(\?= at position 1 is not supported/);
    });

    it('rejects a non-object function and unknown keys', () => {
      assertInvalid({ type: 'custom', function: 'a > 1' }, 'function: expected an object, got string');
      assertInvalid({ type: 'custom' }, 'function: is required');
      assertInvalid({ type: 'custom', function: { field: 'a', operator: 'exists', negate: true } }, 'function.negate: unknown key; a custom function has only "field", "operator" and "value"');
      assertInvalid({ type: 'custom', function: { field: 'a', operator: 'exists' }, field: 'b' }, 'field: unknown key; a "custom" selector has only "type" and "function"');
    });
  });

  describe('isolation from the caller', () => {
    it('is unaffected by later changes to the value it was compiled from', () => {
      const value = ['gold', { level: 1 }];
      const compiled = compileSelector({ type: 'custom', function: { field: 'tier', operator: 'in', value } });
      value[0] = 'silver';
      (value[1] as { level: number }).level = 2;
      assert.equal(compiled.matches({ tier: 'gold' }), true);
      assert.equal(compiled.matches({ tier: { level: 1 } }), true);
      assert.deepEqual(compiled.source, { type: 'custom', function: { field: 'tier', operator: 'in', value: ['gold', { level: 1 }] } });
    });
  });
});
