import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { MISSING, parseFieldPath, readField, type FieldPath } from './field-path.ts';

function path(field: string): FieldPath {
  const parsed = parseFieldPath(field);
  assert.ok('segments' in parsed, 'problem' in parsed ? parsed.problem : '');
  return parsed.segments;
}

describe('field paths', () => {
  it('splits on dots and marks array indices once', () => {
    assert.deepEqual(path('items.10.price'), [
      { key: 'items', index: null },
      { key: '10', index: 10 },
      { key: 'price', index: null },
    ]);
  });

  it('does not treat signed, padded or fractional numbers as indices', () => {
    for (const key of ['-1', '01', '1e2', '+1', ' 1']) assert.equal(path(key)[0].index, null, key);
  });

  it('reports empty paths and empty segments', () => {
    assert.deepEqual(parseFieldPath(''), { problem: 'must not be empty' });
    assert.deepEqual(parseFieldPath('a..b'), { problem: 'segment 2 of "a..b" is empty' });
  });

  it('reads nested values and reports MISSING for absent ones', () => {
    const payload = { a: { b: [10, { c: 'x' }] } };
    assert.equal(readField(payload, path('a.b.1.c')), 'x');
    assert.equal(readField(payload, path('a.b.0')), 10);
    assert.equal(readField(payload, path('a.b.2')), MISSING);
    assert.equal(readField(payload, path('a.x')), MISSING);
    assert.equal(readField(payload, path('a.b.0.c')), MISSING);
  });

  it('keeps null and falsy values as present', () => {
    assert.equal(readField({ a: null }, path('a')), null);
    assert.equal(readField({ a: 0 }, path('a')), 0);
    assert.equal(readField({ a: '' }, path('a')), '');
  });
});
