import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { compileSelector } from './index.ts';
import { MAX_COMBINATOR_DEPTH, MAX_SELECTOR_NODES } from './limits.ts';
import { assertInvalid, custom, jsonpath, matches } from './test-helpers.ts';

const created = { type: 'event_type', value: 'order.created' };
const big = custom('amount', 'greater_than', 100);
const payload = { event_type: 'order.created', amount: 150 };

/** `all` nested `levels` deep around one leaf. */
function nested(levels: number, leaf: unknown = created): unknown {
  let selector = leaf;
  for (let i = 0; i < levels; i++) selector = { type: 'all', selectors: [selector] };
  return selector;
}

describe('compileSelector', () => {
  describe('all and any', () => {
    it('all matches when every selector matches', () => {
      assert.equal(matches({ type: 'all', selectors: [created, big] }, payload), true);
      assert.equal(matches({ type: 'all', selectors: [created, big] }, { ...payload, amount: 50 }), false);
    });

    it('any matches when at least one selector matches', () => {
      assert.equal(matches({ type: 'any', selectors: [created, big] }, { ...payload, amount: 50 }), true);
      assert.equal(matches({ type: 'any', selectors: [created, big] }, { event_type: 'order.updated', amount: 50 }), false);
    });

    it('combines every selector kind, nested', () => {
      const selector = {
        type: 'any',
        selectors: [
          { type: 'all', selectors: [{ type: 'event_type', value: 'order.*' }, jsonpath('$.amount >= 150'), custom('vip', 'not_exists')] },
          { type: 'event_type', value: 'refund.created' },
        ],
      };
      assert.equal(matches(selector, payload), true);
      assert.equal(matches(selector, { ...payload, vip: true }), false);
      assert.equal(matches(selector, { event_type: 'refund.created' }), true);
    });

    it('rejects a missing, non-array or empty selectors list', () => {
      assertInvalid({ type: 'all' }, 'selectors: is required');
      assertInvalid({ type: 'any', selectors: created }, 'selectors: expected an array of selectors, got object');
      assertInvalid({ type: 'all', selectors: [] }, 'selectors: must not be empty; "all" needs at least one selector');
    });

    it('names the path of a nested problem', () => {
      assertInvalid({ type: 'all', selectors: [created, custom('tier', 'bigger', 1)] }, /^selectors\[1\]\.function\.operator: unknown operator "bigger"/);
      assertInvalid({ type: 'any', selectors: [created, { type: 'all', selectors: [jsonpath('$.a == ')] }] }, /^selectors\[1\]\.selectors\[0\]\.expression: expected a query or a literal after "==" at position 7, found the end of the expression$/);
      assertInvalid({ type: 'all', selectors: [created, 'order.created'] }, 'selectors[1]: expected a selector object, got string');
    });
  });

  describe('limits', () => {
    it(`allows all/any nested ${MAX_COMBINATOR_DEPTH} deep and rejects one level more`, () => {
      assert.equal(matches(nested(MAX_COMBINATOR_DEPTH), payload), true);
      const innermost = Array.from({ length: MAX_COMBINATOR_DEPTH }, () => 'selectors[0]').join('.');
      assertInvalid(nested(MAX_COMBINATOR_DEPTH + 1), `${innermost}: "all"/"any" selectors nest too deeply: at most ${MAX_COMBINATOR_DEPTH} levels are allowed`);
    });

    it('stops at the depth limit even for absurdly deep input', () => {
      assertInvalid(nested(100_000), /nest too deeply: at most 16 levels are allowed$/);
    });

    it(`allows ${MAX_SELECTOR_NODES} selectors in total and rejects more`, () => {
      const leaves = (n: number) => Array.from({ length: n }, () => created);
      assert.equal(matches({ type: 'any', selectors: leaves(MAX_SELECTOR_NODES - 1) }, payload), true);
      assertInvalid({ type: 'any', selectors: leaves(MAX_SELECTOR_NODES) }, `selectors[255]: too many selectors: at most ${MAX_SELECTOR_NODES} are allowed in one selector, counting nested ones`);
    });

    it('counts nested selectors towards the total', () => {
      const group = { type: 'all', selectors: Array.from({ length: 99 }, () => created) }; // 100 nodes
      assertInvalid({ type: 'any', selectors: [group, group, group] }, /^selectors\[2\]\.selectors\[\d+\]: too many selectors/);
    });
  });

  describe('shape', () => {
    it('rejects a selector that is not an object', () => {
      for (const [input, type] of [[null, 'null'], ['order.created', 'string'], [[created], 'array'], [1, 'number'], [undefined, 'undefined']] as const) {
        assertInvalid(input, `expected a selector object, got ${type}`);
      }
    });

    it('rejects a missing, non-string or unknown type', () => {
      assertInvalid({ value: 'order.created' }, 'type: is required; one of event_type, jsonpath, custom, all, any');
      assertInvalid({ type: 1, value: 'a' }, 'type: expected a string, got number');
      assertInvalid({ type: 'regex', value: 'a' }, 'type: unknown selector type "regex"; expected one of event_type, jsonpath, custom, all, any');
      assertInvalid({ type: 'toString' }, /^type: unknown selector type "toString"/);
    });

    it('rejects unknown keys on every kind, naming the key', () => {
      assertInvalid({ ...created, negate: true }, 'negate: unknown key; an "event_type" selector has only "type" and "value"');
      assertInvalid({ ...jsonpath('$.a'), value: 1 }, 'value: unknown key; a "jsonpath" selector has only "type" and "expression"');
      assertInvalid({ ...big, operator: 'x' }, 'operator: unknown key; a "custom" selector has only "type" and "function"');
      assertInvalid({ type: 'any', selectors: [created], min: 2 }, 'min: unknown key; an "any" selector has only "type" and "selectors"');
      assertInvalid({ type: 'all', selectors: [{ ...created, 'weird key': 1 }] }, 'selectors[0]."weird key": unknown key; an "event_type" selector has only "type" and "value"');
    });
  });

  describe('the compiled selector', () => {
    it('keeps a clean copy of the selector as its source', () => {
      const input = { type: 'all', selectors: [created, jsonpath('$.a'), custom('tier', 'in', ['gold'])] };
      const compiled = compileSelector(input);
      assert.deepEqual(compiled.source, input);
      assert.notEqual(compiled.source, input);
    });

    it('never throws from matches, whatever the payload', () => {
      const compiled = compileSelector({ type: 'any', selectors: [jsonpath('$.a == $.b'), custom('a', 'contains', { x: 1 }), { type: 'event_type', value: 'order.*' }] });
      const deep = () => {
        let value: unknown = 1;
        for (let i = 0; i < 200_000; i++) value = [value];
        return value;
      };
      for (const input of [null, undefined, 5, 'x', [], { a: deep(), b: deep() }]) {
        assert.doesNotThrow(() => compiled.matches(input as Record<string, unknown>));
        assert.equal(compiled.matches(input as Record<string, unknown>), false);
      }
    });

    it('can be evaluated many times with the same result', () => {
      const compiled = compileSelector({ type: 'all', selectors: [created, jsonpath('$.amount > 100')] });
      for (let i = 0; i < 1_000; i++) assert.equal(compiled.matches(payload), true);
    });
  });
});
