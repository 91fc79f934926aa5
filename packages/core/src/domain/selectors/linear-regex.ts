import { RE2JS } from 're2js';
import { MAX_PATTERN_LENGTH } from './limits.ts';

/**
 * Regular expressions in the RE2 dialect, matched by re2js in time linear in the input: a
 * pattern like `(a+)+$` cannot make matching slow. The price is that back-references and
 * lookaround (which need backtracking) are not part of the dialect.
 */
export interface LinearRegex {
  /** Whether the pattern matches somewhere in `text` (unanchored, like RegExp#test). */
  test(text: string): boolean;
}

export function compileLinearRegex(pattern: string): { regex: LinearRegex } | { problem: string } {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    return { problem: `pattern is ${pattern.length} characters long; at most ${MAX_PATTERN_LENGTH} are allowed` };
  }
  const unsupported = findBacktrackingConstruct(pattern);
  if (unsupported) {
    return {
      problem: `${unsupported.construct} ${unsupported.text} at position ${unsupported.position} is not supported: patterns use the linear-time RE2 dialect, which has no back-references and no lookaround`,
    };
  }
  try {
    const compiled = RE2JS.compile(pattern);
    return { regex: { test: (text) => compiled.test(text) } };
  } catch (thrown) {
    const message = thrown instanceof Error ? thrown.message : String(thrown);
    return { problem: `invalid regular expression: ${message.replace(/^error parsing regexp: /, '')}` };
  }
}

interface BacktrackingConstruct {
  construct: 'back-reference' | 'lookahead' | 'lookbehind';
  text: string;
  position: number;
}

/**
 * Finds a back-reference or lookaround outside character classes, so the error can name it
 * instead of re2js's generic "invalid escape sequence". `\1`…`\9` count as back-references
 * even where RE2 would read an octal escape, because JavaScript users mean the former.
 */
function findBacktrackingConstruct(pattern: string): BacktrackingConstruct | null {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === '\\') {
      const next = pattern[i + 1] ?? '';
      if (!inClass && /[1-9]/.test(next)) return { construct: 'back-reference', text: `\\${next}`, position: i };
      if (!inClass && next === 'k') return { construct: 'back-reference', text: '\\k', position: i };
      i++;
    } else if (inClass) {
      if (char === ']') inClass = false;
      else if (pattern.startsWith('[:', i)) i = Math.max(i, pattern.indexOf(':]', i + 2) + 1);
    } else if (char === '[') {
      inClass = true;
      if (pattern[i + 1] === '^') i++;
      if (pattern[i + 1] === ']') i++; // a `]` first in a class is a literal
    } else if (char === '(') {
      for (const [text, construct] of LOOKAROUND_OPENERS) {
        if (pattern.startsWith(text, i)) return { construct, text, position: i };
      }
      if (pattern.startsWith('(?P=', i)) return { construct: 'back-reference', text: '(?P=', position: i };
    }
  }
  return null;
}

const LOOKAROUND_OPENERS: readonly [string, BacktrackingConstruct['construct']][] = [
  ['(?=', 'lookahead'],
  ['(?!', 'lookahead'],
  ['(?<=', 'lookbehind'],
  ['(?<!', 'lookbehind'],
];
