import assert from 'node:assert/strict';
import { OriginLabels, OTHER_ORIGIN } from './origin-labels.ts';

describe('Origin labels for per-origin metrics (the busiest N origins, the rest "other")', () => {
  it('gives free labels to origins as they come, then "other"', () => {
    const labels = new OriginLabels(2);
    assert.equal(labels.labelFor('https://a.example'), 'https://a.example');
    assert.equal(labels.labelFor('https://b.example:8443'), 'https://b.example:8443');
    assert.equal(labels.labelFor('https://c.example'), OTHER_ORIGIN);
    assert.equal(labels.labelFor('https://a.example'), 'https://a.example', 'a label is kept within the window');
  });

  it('at the end of a window hands the labels to that window\'s busiest origins, and says whom it demoted', () => {
    let now = 0;
    const demoted: string[] = [];
    const labels = new OriginLabels(2, { windowMs: 1000, now: () => now, onDemote: (o) => demoted.push(o) });
    labels.labelFor('https://quiet.example');
    labels.labelFor('https://steady.example');
    for (let i = 0; i < 50; i++) assert.equal(labels.labelFor('https://busy.example'), OTHER_ORIGIN);
    for (let i = 0; i < 10; i++) labels.labelFor('https://steady.example');
    now = 1000;
    assert.equal(labels.labelFor('https://busy.example'), 'https://busy.example', 'promoted');
    assert.equal(labels.labelFor('https://steady.example'), 'https://steady.example', 'kept');
    assert.equal(labels.labelFor('https://quiet.example'), OTHER_ORIGIN, 'demoted');
    assert.deepEqual(demoted, ['https://quiet.example']);
  });

  it('moves the label from an origin that went silent to the one that took its traffic', () => {
    let now = 0;
    const labels = new OriginLabels(1, { windowMs: 1000, now: () => now });
    assert.equal(labels.labelFor('https://old.example'), 'https://old.example');
    now = 1000;
    assert.equal(labels.labelFor('https://new.example'), OTHER_ORIGIN, 'old was the busiest of its window');
    now = 2000;
    assert.equal(labels.labelFor('https://new.example'), 'https://new.example');
    assert.equal(labels.labelFor('https://old.example'), OTHER_ORIGIN);
  });

  it('never has more than N + 1 values and never tracks more than maxTracked origins', () => {
    let now = 0;
    const labels = new OriginLabels(10, { windowMs: 100, now: () => now, maxTracked: 20 });
    for (let i = 0; i < 10_000; i++) {
      now = i;
      labels.labelFor(`https://h${i % 500}.example`);
    }
    const current = new Set<string>();
    for (let i = 0; i < 500; i++) current.add(labels.labelFor(`https://h${i}.example`));
    assert.ok(current.size <= 11, `${current.size} label values now`);
    assert.ok(current.has(OTHER_ORIGIN));
  });
});
