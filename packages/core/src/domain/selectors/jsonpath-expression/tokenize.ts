import { readJsonNumber, type JsonNumber } from '../../json/exact-number.ts';
import { ExpressionError } from './expression-error.ts';

/**
 * Splits a `jsonpath` expression into tokens. A JSONPath query is one token: it runs from `$`
 * through its segments (`.name`, `..name`, `.*`, `[...]`), where a bracket may hold quoted
 * strings, nested brackets and whole filters (`$.items[?@.price > 5 && @.tag == ']']`), so the
 * scanner balances brackets and skips strings instead of stopping at the first operator.
 */

export type Literal = string | JsonNumber | boolean | null;
export type ComparisonOperator = '==' | '!=' | '>' | '>=' | '<' | '<=';

export type Token =
  | { kind: 'query'; text: string; position: number }
  | { kind: 'literal'; value: Literal; text: string; position: number }
  | { kind: 'comparison'; operator: ComparisonOperator; text: string; position: number }
  | { kind: '&&' | '||' | '!' | '(' | ')'; text: string; position: number }
  | { kind: 'end'; text: ''; position: number };

/** Two-character operators first, so `>=` is not read as `>` then `=`. */
const OPERATORS: readonly [string, Token['kind'], ComparisonOperator?][] = [
  ['==', 'comparison', '=='],
  ['!=', 'comparison', '!='],
  ['>=', 'comparison', '>='],
  ['<=', 'comparison', '<='],
  ['&&', '&&'],
  ['||', '||'],
  ['>', 'comparison', '>'],
  ['<', 'comparison', '<'],
  ['!', '!'],
  ['(', '('],
  [')', ')'],
];

/** What people type by mistake, with the fix. */
const HINTS: Record<string, string> = {
  '=': 'use "==" to compare',
  '&': 'use "&&" for "and"',
  '|': 'use "||" for "or"',
  '@': 'queries start with "$"; "@" is only valid inside a filter such as $.items[?@.price > 5]',
};

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
const KEYWORDS: Record<string, Literal> = { true: true, false: false, null: null };

export function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let position = skipBlank(expression, 0);
  while (position < expression.length) {
    const token = readToken(expression, position);
    tokens.push(token);
    position = skipBlank(expression, position + token.text.length);
  }
  tokens.push({ kind: 'end', text: '', position: expression.length });
  return tokens;
}

function readToken(expression: string, position: number): Token {
  const char = expression[position];
  if (char === '$') {
    const text = expression.slice(position, scanQuery(expression, position));
    return { kind: 'query', text, position };
  }
  if (char === '"' || char === "'") return readString(expression, position);
  if (char === '-' || isDigit(char)) return readNumber(expression, position);
  for (const [text, kind, operator] of OPERATORS) {
    if (expression.startsWith(text, position)) {
      return operator ? { kind: 'comparison', operator, text, position } : ({ kind, text, position } as Token);
    }
  }
  WORD.lastIndex = position;
  const word = WORD.exec(expression)?.[0];
  if (word !== undefined) {
    if (Object.hasOwn(KEYWORDS, word)) return { kind: 'literal', value: KEYWORDS[word], text: word, position };
    throw new ExpressionError(`unexpected ${JSON.stringify(word)} at position ${position}; strings must be quoted and queries start with "$"`);
  }
  const hint = HINTS[char] ? `; ${HINTS[char]}` : '';
  throw new ExpressionError(`unexpected character ${JSON.stringify(char)} at position ${position}${hint}`);
}

/**
 * The end of the query starting at `start` (a `$`). RFC 9535 allows blank space between
 * segments, so blank space followed by `.` or `[` continues the query; trailing blank space
 * does not belong to it.
 */
function scanQuery(expression: string, start: number): number {
  let end = start + 1;
  for (;;) {
    const next = skipBlank(expression, end);
    const char = expression[next];
    if (char === '[') {
      end = scanBracket(expression, next);
    } else if (char === '.') {
      let i = expression[next + 1] === '.' ? next + 2 : next + 1;
      if (expression[i] === '[' && i === next + 2) i = scanBracket(expression, i);
      else if (expression[i] === '*') i++;
      else while (i < expression.length && isNameChar(expression.charCodeAt(i))) i++;
      end = i; // an empty name is left for the JSONPath parser to report
    } else {
      return end;
    }
  }
}

/** The index just past the `]` that closes the `[` at `start`. */
function scanBracket(expression: string, start: number): number {
  let depth = 0;
  for (let i = start; i < expression.length; i++) {
    const char = expression[i];
    if (char === '"' || char === "'") i = skipQuoted(expression, i) - 1;
    else if (char === '[') depth++;
    else if (char === ']' && --depth === 0) return i + 1;
  }
  throw new ExpressionError(`unclosed "[" at position ${start}: the JSONPath query ends before its "]"`);
}

/** The index just past the closing quote of the string opened at `start`. */
function skipQuoted(expression: string, start: number): number {
  const quote = expression[start];
  for (let i = start + 1; i < expression.length; i++) {
    if (expression[i] === '\\') i++;
    else if (expression[i] === quote) return i + 1;
  }
  throw new ExpressionError(`unterminated string starting at position ${start}`);
}

const ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', '/': '/', '\\': '\\', '"': '"', "'": "'" };

/** A single- or double-quoted string with JSON escapes (plus `\'`). */
function readString(expression: string, start: number): Token {
  const quote = expression[start];
  let value = '';
  for (let i = start + 1; i < expression.length; i++) {
    const char = expression[i];
    if (char === quote) return { kind: 'literal', value, text: expression.slice(start, i + 1), position: start };
    if (char !== '\\') {
      value += char;
      continue;
    }
    const escape = expression[i + 1];
    if (escape === 'u') {
      const hex = expression.slice(i + 2, i + 6);
      if (!/^[0-9A-Fa-f]{4}$/.test(hex)) throw new ExpressionError(`invalid escape "\\u${hex}" at position ${i}; "\\u" needs four hex digits`);
      value += String.fromCharCode(parseInt(hex, 16));
      i += 5;
    } else if (escape !== undefined && Object.hasOwn(ESCAPES, escape)) {
      value += ESCAPES[escape];
      i++;
    } else if (escape !== undefined) {
      throw new ExpressionError(`unknown escape "\\${escape}" at position ${i}`);
    }
  }
  throw new ExpressionError(`unterminated string starting at position ${start}`);
}

function readNumber(expression: string, start: number): Token {
  NUMBER.lastIndex = start;
  const text = NUMBER.exec(expression)?.[0];
  if (text === undefined) throw new ExpressionError(`expected a digit after "-" at position ${start}`);
  const after = expression[start + text.length] ?? '';
  if (/[0-9A-Za-z_.]/.test(after)) {
    throw new ExpressionError(`malformed number at position ${start}: unexpected ${JSON.stringify(after)} after ${JSON.stringify(text)}`);
  }
  // Exactly as written: `12345678901234567891` stays distinct from `12345678901234567890`.
  return { kind: 'literal', value: readJsonNumber(text), text, position: start };
}

function skipBlank(expression: string, position: number): number {
  let i = position;
  while (i < expression.length && ' \t\n\r'.includes(expression[i])) i++;
  return i;
}

function isDigit(char: string): boolean {
  return char >= '0' && char <= '9';
}

/** RFC 9535 name-char: ALPHA, DIGIT, "_" or any non-ASCII character. */
function isNameChar(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || (code >= 0x30 && code <= 0x39) || code === 0x5f || code >= 0x80;
}
