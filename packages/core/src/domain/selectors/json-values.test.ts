import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { compareOrdered, deepEqual, findNonJsonValue } from './json-values.ts';

describe('JSON value comparisons', () => {
  describe('deepEqual', () => {
    it('compares primitives by type and value', () => {
      assert.equal(deepEqual(1, 1), true);
      assert.equal(deepEqual(0, -0), true);
      assert.equal(deepEqual('1', 1), false);
      assert.equal(deepEqual(null, false), false);
      assert.equal(deepEqual(null, {}), false);
    });

    it('compares objects by keys in any order and arrays by position', () => {
      assert.equal(deepEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }), true);
      assert.equal(deepEqual({ a: 1 }, { a: 1, b: undefined }), false);
      assert.equal(deepEqual([1, 2], [2, 1]), false);
      assert.equal(deepEqual([], {}), false);
      assert.equal(deepEqual({}, []), false);
      assert.equal(deepEqual({ 0: 'a' }, ['a']), false);
    });
  });

  describe('compareOrdered', () => {
    it('orders two numbers or two strings', () => {
      assert.equal(compareOrdered('>', 2, 1), true);
      assert.equal(compareOrdered('<=', 'abc', 'abd'), true);
      assert.equal(compareOrdered('>=', 1, 1), true);
      assert.equal(compareOrdered('<', 1, 1), false);
    });

    it('never orders mixed or other types', () => {
      assert.equal(compareOrdered('>', '100', 5), false);
      assert.equal(compareOrdered('<', 5, '100'), false);
      assert.equal(compareOrdered('>=', null, 0), false);
      assert.equal(compareOrdered('<=', true, 1), false);
      assert.equal(compareOrdered('>=', [1], [1]), false);
    });
  });

  describe('findNonJsonValue', () => {
    it('accepts JSON and locates what is not', () => {
      assert.equal(findNonJsonValue({ a: [1, 'x', null, true, { b: {} }] }, 10), null);
      assert.deepEqual(findNonJsonValue({ a: [1, undefined] }, 10), { path: '.a[1]', problem: 'undefined is not a JSON value' });
      assert.deepEqual(findNonJsonValue([[[]]], 2), { path: '[0][0]', problem: 'nested too deeply' });
    });
  });
});
