import { z } from 'zod';
import { ERROR_CODES } from '../errors.ts';

/** Schemas shared by several routes. */
export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(Object.keys(ERROR_CODES) as [keyof typeof ERROR_CODES, ...(keyof typeof ERROR_CODES)[]]),
    errors: z.array(z.object({ index: z.number().int(), detail: z.string() })).optional().meta({ description: 'Batch validation: what is wrong with each refused item.' }),
    max_events: z.number().int().optional().meta({ description: '`payload_too_large` for a batch above the rate limit\'s burst: the most events one request can carry.' }),
  })
  .meta({ description: 'RFC 9457 problem details with a stable machine-readable `code`.' });

export const isoTime = z.string().meta({ format: 'date-time', example: '2026-01-15T10:30:00.123Z' });
export const uuid = z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be a UUID');

/**
 * An e-mail address: the pattern is at once the check and its OpenAPI description, so a client
 * generated from the document never sends one the server refuses. A local part of 1–64 characters
 * (RFC 5321) of letters, digits and `_'+-.` (not starting or ending with a dot); a domain of
 * LDH labels of at most 63 characters and a top-level label of letters; 254 characters in all.
 */
export const EMAIL_PATTERN = /^[A-Za-z0-9_'+-](?:[A-Za-z0-9_'+.-]{0,62}[A-Za-z0-9_'+-])?@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

export const emailAddress = z
  .email({ pattern: EMAIL_PATTERN, error: 'must be an email address with a local part of at most 64 characters' })
  .max(254, 'must be at most 254 characters');

/**
 * The document's form of "at least one character that `String.prototype.trim` does not remove":
 * its whitespace and line terminators, spelled out so Python's and JavaScript's regex engines read
 * the class alike (`\s` differs between them on U+FEFF and U+001C–U+001F). schemas.test.ts checks
 * it against `trim` for every UTF-16 code unit.
 */
export const NOT_BLANK_PATTERN = '[^\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]';

/**
 * Text a person typed: at most `max` characters as sent, at least one that is not whitespace, stored
 * trimmed. The document says exactly that (maxLength on the text as sent, the not-blank pattern),
 * so a client built from it never sends what the server refuses, nor the reverse.
 */
export function nonBlankText(max: number, options: { example?: string; message?: string } = {}) {
  return z
    .string()
    .max(max)
    .trim()
    .min(1, options.message)
    .meta({ pattern: NOT_BLANK_PATTERN, ...(options.example === undefined ? {} : { example: options.example }) });
}

/**
 * A whole-number query parameter from `min` to `max`, written in decimal digits only ("1e2", " 7" and
 * "0x10" are refused); out of range says what the range is. Documented as an integer with its bounds.
 */
export function queryInteger(min: number, max: number, options: { default?: number } = {}) {
  const range = `must be a whole number from ${min} to ${max}`;
  const integer = z.number({ error: range }).int(range).min(min, range).max(max, range);
  return z.preprocess(
    (value) => (typeof value !== 'string' ? value : /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN),
    options.default === undefined ? integer : integer.meta({ default: options.default }),
  );
}
