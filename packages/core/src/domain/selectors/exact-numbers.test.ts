import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { JsonText } from '../json/json-text.ts';
import { compileSelector } from './compile.ts';
import { custom, jsonpath } from './test-helpers.ts';

/** Matches the way the matcher does: the payload's stored text, parsed exactly once. */
function matchesText(selector: unknown, payloadText: string): boolean {
  return compileSelector(selector).matches(new JsonText<Record<string, unknown>>(payloadText).value());
}

describe('selectors compare numbers beyond a double exactly', () => {
  const payload = '{"id":12345678901234567890,"neg":-9007199254740993,"huge":1e999,"tiny":1e-400,"list":[12345678901234567891]}';

  it('jsonpath: literals and payload numbers compare by the value written, never rounded', () => {
    assert.equal(matchesText(jsonpath('$.id == 12345678901234567890'), payload), true);
    assert.equal(matchesText(jsonpath('$.id == 12345678901234567000'), payload), false, 'the rounded double is another number');
    assert.equal(matchesText(jsonpath('$.id != 12345678901234567000'), payload), true);
    assert.equal(matchesText(jsonpath('$.id < 12345678901234567891'), payload), true);
    assert.equal(matchesText(jsonpath('$.id > 12345678901234567889'), payload), true);
    assert.equal(matchesText(jsonpath('$.neg < -9007199254740992'), payload), true);
    assert.equal(matchesText(jsonpath('$.neg == -9007199254740992'), payload), false);
    assert.equal(matchesText(jsonpath('$.huge > 1e308'), payload), true);
    assert.equal(matchesText(jsonpath('$.huge == 1e999'), payload), true);
    assert.equal(matchesText(jsonpath('$.huge < 2e999'), payload), true);
    assert.equal(matchesText(jsonpath('$.tiny > 0'), payload), true);
    assert.equal(matchesText(jsonpath('$.tiny == 0'), payload), false);
    assert.equal(matchesText(jsonpath('$.list[0] > $.id'), payload), true);
    assert.equal(matchesText(jsonpath('$.id == "12345678901234567890"'), payload), false, 'no coercion from strings');
  });

  it('custom: ordering and equality against the selector value are exact on the payload side', () => {
    assert.equal(matchesText(custom('neg', 'less_than', -9007199254740992), payload), true);
    assert.equal(matchesText(custom('neg', 'equals', -9007199254740992), payload), false);
    assert.equal(matchesText(custom('neg', 'not_equals', -9007199254740992), payload), true);
    assert.equal(matchesText(custom('id', 'greater_than', 12345678901234567000), payload), true);
    assert.equal(matchesText(custom('id', 'in', [12345678901234567000]), payload), false);
    assert.equal(matchesText(custom('huge', 'greater_than', Number.MAX_VALUE), payload), true);
    assert.equal(matchesText(custom('tiny', 'greater_than', 0), payload), true);
    assert.equal(matchesText(custom('id', 'exists'), payload), true);
  });

  it('-0 equals 0, and 1.0 equals 1', () => {
    assert.equal(matchesText(jsonpath('$.z == 0 && $.one == 1'), '{"z":-0,"one":1.0}'), true);
    assert.equal(matchesText(custom('z', 'equals', 0), '{"z":-0}'), true);
  });

  it('a filter evaluated by the JSONPath library cannot compare such a number: the selector does not match (never a rounded match)', () => {
    assert.equal(matchesText(jsonpath('$.items[?@.n > 1]'), '{"items":[{"n":12345678901234567890}]}'), false);
    assert.equal(matchesText(jsonpath('$.items[?@.n > 1]'), '{"items":[{"n":5}]}'), true);
  });
});
