/**
 * JSON numbers compared by the decimal value they are written as, never rounded. Most numbers
 * are JavaScript numbers (a double whose shortest form has the same digits says exactly what was
 * written); the others — `12345678901234567890`, `-9007199254740993`, `1e999`, `1e-400` — are
 * ExactNumbers, which keep their text and compare exactly against any other number.
 */
export class ExactNumber {
  /** The number as written in the JSON text. */
  readonly #text: string;
  #decimal: Decimal | undefined;

  constructor(text: string) {
    this.#text = text;
  }

  toString(): string {
    return this.#text;
  }

  /** Its value, parsed once. */
  get decimal(): Decimal {
    return (this.#decimal ??= toDecimal(this.#text));
  }
}

/** A number in a comparable form: `sign × 0.digits × 10^exponent`, digits without leading or trailing zeros. */
export interface Decimal {
  readonly sign: -1 | 0 | 1;
  readonly digits: string;
  readonly exponent: bigint;
}

const NUMBER_TEXT = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** The Decimal of a JSON number's text (also the `1e+21` form `String(number)` gives). */
export function toDecimal(text: string): Decimal {
  const match = NUMBER_TEXT.exec(text);
  if (!match) throw new SyntaxError(`not a JSON number: ${text}`);
  const [, minus, whole, fraction = '', exponentText = '0'] = match;
  const all = whole + fraction;
  let first = 0;
  while (first < all.length && all.charCodeAt(first) === 48) first++;
  if (first === all.length) return { sign: 0, digits: '', exponent: 0n };
  let last = all.length;
  while (all.charCodeAt(last - 1) === 48) last--;
  // all = 0.<all> × 10^whole.length; dropping `first` leading zeros moves the point by `first`.
  return { sign: minus ? -1 : 1, digits: all.slice(first, last), exponent: BigInt(exponentText) + BigInt(whole.length - first) };
}

/** -1, 0 or 1 as a < b, a = b or a > b. */
export function compareDecimals(a: Decimal, b: Decimal): -1 | 0 | 1 {
  if (a.sign !== b.sign) return a.sign < b.sign ? -1 : 1;
  if (a.sign === 0) return 0;
  let magnitude: -1 | 0 | 1 = a.exponent === b.exponent ? 0 : a.exponent < b.exponent ? -1 : 1;
  if (magnitude === 0) {
    const length = Math.max(a.digits.length, b.digits.length);
    const x = a.digits.padEnd(length, '0');
    const y = b.digits.padEnd(length, '0');
    magnitude = x === y ? 0 : x < y ? -1 : 1;
  }
  return (a.sign === 1 ? magnitude : -magnitude) as -1 | 0 | 1;
}

export type JsonNumber = number | ExactNumber;

export function isJsonNumber(value: unknown): value is JsonNumber {
  return typeof value === 'number' || value instanceof ExactNumber;
}

/** Compares two JSON numbers by value (`-0` equals `0`); doubles compare as doubles. */
export function compareNumbers(a: JsonNumber, b: JsonNumber): -1 | 0 | 1 {
  if (typeof a === 'number' && typeof b === 'number') return a === b ? 0 : a < b ? -1 : 1;
  return compareDecimals(decimalOf(a), decimalOf(b));
}

function decimalOf(value: JsonNumber): Decimal {
  return typeof value === 'number' ? toDecimal(String(value)) : value.decimal;
}

/**
 * The value of a JSON number's text: a JavaScript number when the double says exactly what the
 * text says (its shortest form has the same digits and exponent), else an ExactNumber.
 */
export function readJsonNumber(text: string): JsonNumber {
  const value = Number(text);
  if (Number.isFinite(value) && sameDecimal(toDecimal(text), toDecimal(String(value)))) return value;
  return new ExactNumber(text);
}

function sameDecimal(a: Decimal, b: Decimal): boolean {
  return a.sign === b.sign && a.digits === b.digits && a.exponent === b.exponent;
}
