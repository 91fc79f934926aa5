import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { compileLinearRegex, type LinearRegex } from './linear-regex.ts';
import { assertInvalid, custom, matches } from './test-helpers.ts';

function compile(pattern: string): LinearRegex {
  const compiled = compileLinearRegex(pattern);
  assert.ok('regex' in compiled, 'problem' in compiled ? compiled.problem : '');
  return compiled.regex;
}

function problemOf(pattern: string): string {
  const compiled = compileLinearRegex(pattern);
  assert.ok('problem' in compiled, `expected ${pattern} to be rejected`);
  return compiled.problem;
}

describe('linear-time regex', () => {
  it('searches anywhere in the text unless anchored', () => {
    assert.equal(compile('b+').test('abbbc'), true);
    assert.equal(compile('^b+').test('abbbc'), false);
    assert.equal(compile('^a.*c$').test('abbbc'), true);
  });

  it('supports the RE2 dialect: classes, repetition, alternation, inline flags', () => {
    assert.equal(compile('^[A-Z]{2}-\\d{3,}$').test('AB-1234'), true);
    assert.equal(compile('(?i)^(gold|platinum)$').test('GOLD'), true);
    assert.equal(compile('[[:alpha:]]+').test('abc'), true);
    assert.equal(compile('[(?=]').test('='), true);
  });

  describe('pathological patterns finish in linear time', () => {
    const text = `${'a'.repeat(50_000)}!`;
    for (const pattern of ['(a+)+$', '(a|aa)+$', '(a*)*b', '^(a|a?)+$', '(.*a){20}$']) {
      it(`${pattern} against 50,000 "a"s and "!" takes under 200 ms`, () => {
        const regex = compile(pattern);
        const started = performance.now();
        const result = regex.test(text);
        const elapsed = performance.now() - started;
        assert.equal(result, false);
        assert.ok(elapsed < 200, `took ${elapsed.toFixed(1)} ms`);
      });
    }

    it('through a custom selector as well', () => {
      const selector = custom('name', 'matches', '(a+)+$');
      const started = performance.now();
      assert.equal(matches(selector, { name: `${'a'.repeat(50_000)}!` }), false);
      assert.ok(performance.now() - started < 200);
    });
  });

  describe('rejected constructs', () => {
    it('rejects numbered and named back-references', () => {
      assert.match(problemOf('(a)\\1'), /^back-reference \\1 at position 3 is not supported: patterns use the linear-time RE2 dialect, which has no back-references and no lookaround$/);
      assert.match(problemOf('(?<n>a)\\k<n>'), /^back-reference \\k at position 7 is not supported/);
      assert.match(problemOf('(?P<n>a)(?P=n)'), /^back-reference \(\?P= at position 8 is not supported/);
    });

    it('rejects lookahead and lookbehind', () => {
      assert.match(problemOf('(?=a)'), /^lookahead \(\?= at position 0 is not supported/);
      assert.match(problemOf('a(?!b)'), /^lookahead \(\?! at position 1 is not supported/);
      assert.match(problemOf('(?<=a)b'), /^lookbehind \(\?<= at position 0 is not supported/);
      assert.match(problemOf('(?<!a)b'), /^lookbehind \(\?<! at position 0 is not supported/);
    });

    it('does not mistake escaped or bracketed text for those constructs', () => {
      assert.equal(compile('\\(\\?=').test('(?='), true);
      assert.equal(compile('\\\\1').test('\\1'), true);
    });

    it('reports other syntax errors from the RE2 parser', () => {
      assert.equal(problemOf('[a-'), 'invalid regular expression: missing closing ]: `[a-`');
      assert.equal(problemOf('a**'), 'invalid regular expression: invalid nested repetition operator: `**`');
      assert.match(problemOf('a{1001}'), /^invalid regular expression: invalid repeat count/);
    });

    it('caps patterns at 1024 characters', () => {
      assert.doesNotThrow(() => compile('a'.repeat(1024)));
      assert.equal(problemOf('a'.repeat(1025)), 'pattern is 1025 characters long; at most 1024 are allowed');
      assertInvalid(custom('x', 'matches', 'a'.repeat(1025)), 'function.value: pattern is 1025 characters long; at most 1024 are allowed');
    });
  });
});
