import { JsonText } from './json-text.ts';

/**
 * Finds the `payload` values of an ingest body in its text, so each payload is stored as the
 * client wrote it rather than re-serialised from a parsed copy (which rounds numbers beyond a
 * double and drops `__proto__`). One pass over the text, which JSON.parse has already accepted:
 * the grammar is trusted here, only strings, brackets and the envelope's keys are followed.
 */

export interface LocatedPayload {
  /**
   * The payload's text, without whitespace outside strings (everything else as sent). Typed as
   * an object, which it is once the body's schema accepted the parsed payload.
   */
  json: JsonText<Record<string, unknown>>;
  /** How deeply objects and arrays nest in it: the payload object itself is level 1. */
  depth: number;
}

/** The `payload` of `{"payload": ...}` (the last one if repeated, as JSON.parse reads it). */
export function locateEventPayload(body: string): LocatedPayload | undefined {
  const start = skipBlank(body, 0);
  if (body.charCodeAt(start) !== OPEN_OBJECT) return undefined;
  let found: LocatedPayload | undefined;
  forEachMember(body, start, (key, valueStart) => {
    if (key !== 'payload') return skipValue(body, valueStart).end;
    const scanned = skipValue(body, valueStart);
    found = located(body, valueStart, scanned);
    return scanned.end;
  });
  return found;
}

/** The `payload` of each item of `{"events": [{"payload": ...}, ...]}`, by index (undefined where absent). */
export function locateBatchPayloads(body: string): (LocatedPayload | undefined)[] {
  const start = skipBlank(body, 0);
  if (body.charCodeAt(start) !== OPEN_OBJECT) return [];
  let found: (LocatedPayload | undefined)[] = [];
  forEachMember(body, start, (key, valueStart) => {
    if (key !== 'events' || body.charCodeAt(valueStart) !== OPEN_ARRAY) return skipValue(body, valueStart).end;
    found = [];
    return forEachElement(body, valueStart, (index, itemStart) => {
      if (body.charCodeAt(itemStart) !== OPEN_OBJECT) return skipValue(body, itemStart).end;
      return forEachMember(body, itemStart, (itemKey, payloadStart) => {
        const scanned = skipValue(body, payloadStart);
        if (itemKey === 'payload') found[index] = located(body, payloadStart, scanned);
        return scanned.end;
      });
    });
  });
  return found;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;

interface Scanned {
  end: number;
  depth: number;
  blank: boolean;
}

function located(body: string, start: number, scanned: Scanned): LocatedPayload {
  const text = body.slice(start, scanned.end);
  return { json: new JsonText<Record<string, unknown>>(scanned.blank ? withoutBlanks(text) : text), depth: scanned.depth };
}

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipBlank(text: string, i: number): number {
  while (isBlank(text.charCodeAt(i))) i++;
  return i;
}

/** The index just after the string whose opening quote is at `start`. */
function stringEnd(text: string, start: number): number {
  let quote = start;
  for (;;) {
    quote = text.indexOf('"', quote + 1);
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
  }
}

/** Skips the value at `start`, measuring its nesting and whether it holds blanks between tokens. */
function skipValue(text: string, start: number): Scanned {
  const first = text.charCodeAt(start);
  if (first === QUOTE) return { end: stringEnd(text, start), depth: 0, blank: false };
  if (first !== OPEN_OBJECT && first !== OPEN_ARRAY) {
    let end = start + 1;
    for (let c = text.charCodeAt(end); !(c === COMMA || c === CLOSE_OBJECT || c === CLOSE_ARRAY || isBlank(c) || Number.isNaN(c)); c = text.charCodeAt(++end));
    return { end, depth: 0, blank: false };
  }
  let depth = 0;
  let deepest = 0;
  let blank = false;
  let i = start;
  do {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = stringEnd(text, i);
      continue;
    }
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > deepest) deepest = depth;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
    } else if (isBlank(c)) {
      blank = true;
    }
    i++;
  } while (depth > 0);
  return { end: i, depth: deepest, blank };
}

/** Calls `onMember` for each member of the object at `start`; it returns where the value ends. */
function forEachMember(text: string, start: number, onMember: (key: string, valueStart: number) => number): number {
  let i = skipBlank(text, start + 1);
  if (text.charCodeAt(i) === CLOSE_OBJECT) return i + 1;
  for (;;) {
    const keyEnd = stringEnd(text, i);
    const rawKey = text.slice(i, keyEnd);
    const key = rawKey.includes('\\') ? (JSON.parse(rawKey) as string) : rawKey.slice(1, -1);
    const colon = skipBlank(text, keyEnd);
    i = skipBlank(text, onMember(key, skipBlank(text, colon + 1)));
    if (text.charCodeAt(i) !== COMMA) return i + 1;
    i = skipBlank(text, i + 1);
  }
}

/** Calls `onElement` for each element of the array at `start`; it returns where the element ends. */
function forEachElement(text: string, start: number, onElement: (index: number, elementStart: number) => number): number {
  let i = skipBlank(text, start + 1);
  if (text.charCodeAt(i) === CLOSE_ARRAY) return i + 1;
  for (let index = 0; ; index++) {
    i = skipBlank(text, onElement(index, i));
    if (text.charCodeAt(i) !== COMMA) return i + 1;
    i = skipBlank(text, i + 1);
  }
}

/** The JSON text without blanks between tokens (those inside strings are kept). */
function withoutBlanks(text: string): string {
  let result = '';
  let copied = 0;
  for (let i = 0; i < text.length; ) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = stringEnd(text, i);
    } else if (isBlank(c)) {
      result += text.slice(copied, i);
      i = skipBlank(text, i);
      copied = i;
    } else {
      i++;
    }
  }
  return result + text.slice(copied);
}
