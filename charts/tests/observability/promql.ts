/**
 * Just enough PromQL lexing to list the metric names an expression reads: identifiers that are
 * not functions (followed by `(`), not aggregation operators or keywords, not label names (inside
 * `{...}` or the label lists of `by`/`without`/`on`/`ignoring`/`group_left`/`group_right`), not
 * inside strings, durations or numbers.
 */

const KEYWORDS = new Set([
  // aggregation operators
  'sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio',
  // binary operators and modifiers
  'and', 'or', 'unless', 'atan2', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right',
  // literals
  'inf', 'nan',
]);
const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const IDENTIFIER = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const NUMBER = /(0x[0-9a-fA-F]+|\d*\.?\d+(?:[eE][+-]?\d+)?)/y;

/** The metric names `expr` reads, in order of first appearance. */
export function metricNames(expr: string): string[] {
  const names: string[] = [];
  let i = 0;
  let lastKeyword: string | undefined;
  const skipSpace = () => {
    while (i < expr.length && /\s/.test(expr[i])) i++;
  };
  const skipPast = (close: string) => {
    while (i < expr.length && expr[i] !== close) {
      if (expr[i] === '"' || expr[i] === "'" || expr[i] === '`') skipString();
      else i++;
    }
    i++;
  };
  const skipString = () => {
    const quote = expr[i++];
    while (i < expr.length && expr[i] !== quote) i += expr[i] === '\\' && quote !== '`' ? 2 : 1;
    i++;
  };
  while (i < expr.length) {
    const c = expr[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < expr.length && expr[i] !== '\n') i++;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      skipString();
      lastKeyword = undefined;
      continue;
    }
    if (c === '{') {
      i++;
      skipPast('}');
      continue;
    }
    if (c === '[') {
      i++;
      skipPast(']'); // a range or subquery: durations and Grafana variables, no names
      continue;
    }
    if (c === '(' && lastKeyword !== undefined && LABEL_LIST_KEYWORDS.has(lastKeyword)) {
      i++;
      skipPast(')'); // by (job, le): label names
      lastKeyword = undefined;
      continue;
    }
    if (/[0-9.]/.test(c)) {
      NUMBER.lastIndex = i;
      const number = NUMBER.exec(expr);
      if (number) {
        i += number[0].length;
        // A duration (5m, 1h30m) or a trailing unit: swallow its letters.
        while (i < expr.length && /[a-zA-Z0-9]/.test(expr[i])) i++;
        lastKeyword = undefined;
        continue;
      }
    }
    IDENTIFIER.lastIndex = i;
    const identifier = IDENTIFIER.exec(expr);
    if (identifier) {
      const word = identifier[0];
      i += word.length;
      if (lastKeyword === 'offset') {
        lastKeyword = undefined; // offset 5m is a number above; "offset -5m" never names a metric either
        continue;
      }
      if (KEYWORDS.has(word.toLowerCase())) {
        lastKeyword = word.toLowerCase();
        continue;
      }
      lastKeyword = undefined;
      skipSpace();
      if (expr[i] === '(') continue; // a function call
      if (!names.includes(word)) names.push(word);
      continue;
    }
    lastKeyword = undefined;
    i++;
  }
  return names;
}

/** The metric family a sample name belongs to: histogram and summary series lose their suffix. */
export function familyCandidates(name: string): string[] {
  const stripped = name.replace(/_(bucket|sum|count)$/, '');
  return stripped === name ? [name] : [name, stripped];
}
