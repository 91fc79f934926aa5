import assert from 'node:assert/strict';
import { OriginLabels, OTHER_ORIGIN } from './origin-labels.ts';

describe('Origin labels for per-origin metrics', () => {
  it('gives the first N origins their own label and every later one "other"', () => {
    const labels = new OriginLabels(2);
    assert.equal(labels.labelFor('https://a.example'), 'https://a.example');
    assert.equal(labels.labelFor('https://b.example:8443'), 'https://b.example:8443');
    assert.equal(labels.labelFor('https://c.example'), OTHER_ORIGIN);
    assert.equal(labels.labelFor('https://a.example'), 'https://a.example', 'a label once given is kept');
    assert.equal(labels.labelFor('https://c.example'), OTHER_ORIGIN, 'and a refused origin stays "other"');
  });

  it('never has more than N + 1 values, however many origins come', () => {
    const labels = new OriginLabels(10);
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) seen.add(labels.labelFor(`https://h${i}.example`));
    assert.equal(seen.size, 11);
  });
});
