import { readJsonNumber } from './exact-number.ts';

/**
 * A number token that a double may not hold exactly: one with an exponent, or with 16 or more
 * digits. Matching text inside a string only costs the slower parse, never a wrong value.
 */
const MAYBE_INEXACT_NUMBER = /[:[,]\s*-?(?:\d+(?:\.\d*)?[eE]|(?:\d\.?){16})/;

/**
 * Parses JSON text like JSON.parse (duplicate keys: the last one wins; `__proto__` is an own
 * key), except that a number a double cannot hold exactly becomes an ExactNumber instead of
 * being rounded (or turned into Infinity or 0). Text without such numbers goes to JSON.parse.
 */
export function parseJsonExactly(text: string): unknown {
  if (!MAYBE_INEXACT_NUMBER.test(text)) return JSON.parse(text);
  const parser = new ExactParser(text);
  const value = parser.value();
  parser.end();
  return value;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERALS = [
  ['true', true],
  ['false', false],
  ['null', null],
] as const;

class ExactParser {
  private i = 0;

  constructor(private readonly text: string) {}

  value(): unknown {
    this.skipBlank();
    const c = this.text.charCodeAt(this.i);
    if (c === 0x7b) return this.object();
    if (c === 0x5b) return this.array();
    if (c === 0x22) return this.string();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    for (const [word, value] of LITERALS) {
      if (this.text.startsWith(word, this.i)) {
        this.i += word.length;
        return value;
      }
    }
    return this.fail();
  }

  end(): void {
    this.skipBlank();
    if (this.i !== this.text.length) this.fail();
  }

  private object(): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    this.i++;
    this.skipBlank();
    if (this.text.charCodeAt(this.i) === 0x7d) {
      this.i++;
      return result;
    }
    for (;;) {
      this.skipBlank();
      if (this.text.charCodeAt(this.i) !== 0x22) this.fail();
      const key = this.string();
      this.skipBlank();
      if (this.text.charCodeAt(this.i++) !== 0x3a) this.fail();
      // An own property even for `__proto__`, as JSON.parse makes it.
      Object.defineProperty(result, key, { value: this.value(), writable: true, enumerable: true, configurable: true });
      if (this.separator(0x7d)) return result;
    }
  }

  private array(): unknown[] {
    const result: unknown[] = [];
    this.i++;
    this.skipBlank();
    if (this.text.charCodeAt(this.i) === 0x5d) {
      this.i++;
      return result;
    }
    for (;;) {
      result.push(this.value());
      if (this.separator(0x5d)) return result;
    }
  }

  /** After a member or element: true at the closing bracket, false after a comma. */
  private separator(close: number): boolean {
    this.skipBlank();
    const c = this.text.charCodeAt(this.i++);
    if (c === close) return true;
    if (c !== 0x2c) this.fail();
    return false;
  }

  private string(): string {
    const start = this.i;
    let end = start + 1;
    for (;;) {
      end = this.text.indexOf('"', end);
      if (end === -1) this.fail();
      let backslashes = 0;
      while (this.text.charCodeAt(end - 1 - backslashes) === 0x5c) backslashes++;
      if (backslashes % 2 === 0) break;
      end++;
    }
    this.i = end + 1;
    const raw = this.text.slice(start, end + 1);
    return raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
  }

  private number(): unknown {
    NUMBER.lastIndex = this.i;
    const token = NUMBER.exec(this.text)?.[0];
    if (!token) return this.fail();
    this.i += token.length;
    return readJsonNumber(token);
  }

  private skipBlank(): void {
    for (;;) {
      const c = this.text.charCodeAt(this.i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.i++;
    }
  }

  private fail(): never {
    throw new SyntaxError(`Invalid JSON at position ${this.i}`);
  }
}
