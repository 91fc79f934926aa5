import type { JsonPathQuery } from 'jsonpath-rfc9535/parser';

/**
 * jsonpath-rfc9535@1.3.0 parses two filter forms wrongly, and the wrong parse silently changes
 * which nodes match:
 *
 * 1. `a && b && c` (three or more operands) parses as `a && (b || c)`
 *    (https://github.com/P0lip/jsonpath-rfc9535/issues/5).
 * 2. In a comparison, a singular query with an index, `@.tags[0] == 'x'` or `$.a[1].b > 2`,
 *    loses the index (its AST node nests the selector one level too deep) and selects nothing.
 *
 * Both are avoided by rewriting the query text into an equivalent form that parses correctly:
 * `a && (b && c)`, and `value(@.tags[0]) == 'x'` (RFC 9535 `value()` of a singular query is the
 * node's value or Nothing, which is exactly what the comparison would see). Remove this module
 * when the library is fixed; the tests in library-workarounds.test.ts will say so.
 */
export function rewriteForLibrary(query: string): string {
  const insertions: Insertion[] = [];
  const levels: number[][] = [[]]; // per bracket/parenthesis level: the offsets just after each `&&`
  const closeRun = (at: number) => {
    const ands = levels[levels.length - 1];
    if (ands.length >= 2) {
      // a && b && c && d  →  a && (b && (c && d))
      for (const after of ands.slice(0, -1)) insertions.push({ at: after, text: '(', order: 0 });
      insertions.push({ at, text: ')'.repeat(ands.length - 1), order: 2 });
    }
    ands.length = 0;
  };

  for (let i = 0; i < query.length; i++) {
    const char = query[i];
    if (char === '"' || char === "'") {
      i = skipString(query, i) - 1;
    } else if (char === '(' || char === '[') {
      levels.push([]);
    } else if (char === ')' || char === ']') {
      closeRun(i);
      if (levels.length > 1) levels.pop();
    } else if (char === ',') {
      closeRun(i);
    } else if (query.startsWith('||', i)) {
      closeRun(i);
      i++;
    } else if (query.startsWith('&&', i)) {
      levels[levels.length - 1].push(i + 2);
      i++;
    } else if ((char === '@' || char === '$') && levels.length > 1) {
      const end = indexedSingularQueryEnd(query, i);
      if (end !== null && isComparisonOperand(query, i, end)) {
        insertions.push({ at: i, text: 'value(', order: 1 }, { at: end, text: ')', order: 2 });
      }
    }
  }
  return applyInsertions(query, insertions);
}

/** Whether a parsed query has the shape of bug 2, for checking that a rewrite removed it. */
export function hasLostIndex(query: JsonPathQuery): boolean {
  const visit = (node: unknown): boolean => {
    if (typeof node !== 'object' || node === null) return false;
    const record = node as Record<string, unknown>;
    if (record.type === 'SingularQuerySegment' && (record.node as Record<string, unknown>).type === 'IndexSelector' && 'selector' in (record.node as object)) return true;
    return Object.values(record).some((child) => (Array.isArray(child) ? child.some(visit) : visit(child)));
  };
  return visit(query);
}

interface Insertion {
  at: number;
  text: string;
  /** At one offset: a run's "(" before "value(", and closing ")" after both. */
  order: number;
}

function applyInsertions(text: string, insertions: Insertion[]): string {
  if (insertions.length === 0) return text;
  const sorted = [...insertions].sort((a, b) => a.at - b.at || a.order - b.order);
  let result = '';
  let copied = 0;
  for (const { at, text: inserted } of sorted) {
    result += text.slice(copied, at) + inserted;
    copied = at;
  }
  return result + text.slice(copied);
}

/**
 * The end of the singular query (names and indices only) starting at `start` if it has at least
 * one index segment and nothing after it continues the query; otherwise null.
 */
function indexedSingularQueryEnd(query: string, start: number): number | null {
  let end = start + 1;
  let hasIndex = false;
  for (;;) {
    const next = skipBlank(query, end);
    if (query[next] === '.' && isNameStart(query.charCodeAt(next + 1))) {
      end = next + 2;
      while (end < query.length && isNameChar(query.charCodeAt(end))) end++;
    } else if (query[next] === '[') {
      const inner = skipBlank(query, next + 1);
      const index = /^-?(?:0|[1-9][0-9]*)/.exec(query.slice(inner));
      let afterSelector: number;
      if (index) {
        afterSelector = inner + index[0].length;
        hasIndex = true;
      } else if (query[inner] === '"' || query[inner] === "'") {
        afterSelector = skipString(query, inner);
      } else {
        return null; // a wildcard, slice or filter: not singular
      }
      const close = skipBlank(query, afterSelector);
      if (query[close] !== ']') return null; // a union such as [0, 1]
      end = close + 1;
    } else if (query[next] === '.') {
      return null; // `.*` or `..`: not singular
    } else {
      return hasIndex ? end : null;
    }
  }
}

/** Whether a comparison operator sits right before `start` or right after `end`. */
function isComparisonOperand(query: string, start: number, end: number): boolean {
  const after = query.slice(skipBlank(query, end), skipBlank(query, end) + 2);
  if (/^(?:==|!=|<|>)/.test(after)) return true;
  let before = start - 1;
  while (before >= 0 && ' \t\n\r'.includes(query[before])) before--;
  return before >= 0 && '=<>'.includes(query[before]);
}

function skipString(text: string, start: number): number {
  const quote = text[start];
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === quote) return i + 1;
  }
  return text.length;
}

function skipBlank(text: string, position: number): number {
  let i = position;
  while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  return i;
}

function isNameStart(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || code === 0x5f || code >= 0x80;
}

function isNameChar(code: number): boolean {
  return isNameStart(code) || (code >= 0x30 && code <= 0x39);
}
