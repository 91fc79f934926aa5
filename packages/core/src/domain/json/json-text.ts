import { randomUUID } from 'node:crypto';
import { parseJsonExactly } from './parse-exactly.ts';

/**
 * A JSON value kept as its text: an event payload is validated when it is accepted, stored as
 * this text and served as it (embedded in responses, stream messages and webhook bodies by
 * `stringifyJson`), so no number is ever rounded and no key dropped on the way. `value()` parses
 * it for matching, exactly (see parseJsonExactly).
 */
export class JsonText<T = unknown> {
  readonly text: string;
  #value: T | undefined;

  /** `text` must be valid JSON (it was checked when the value was accepted). */
  constructor(text: string) {
    this.text = text;
  }

  /** The text of a value built in code (tests, fixtures, demo events). */
  static of<V>(value: V): JsonText<V> {
    return new JsonText<V>(JSON.stringify(value));
  }

  /** The value, parsed once: numbers a double cannot hold exactly are ExactNumbers. */
  value(): T {
    if (this.#value === undefined) this.#value = parseJsonExactly(this.text) as T;
    return this.#value;
  }

  /** Only `stringifyJson` may serialise a JsonText: a plain JSON.stringify would lose its text. */
  toJSON(): string {
    if (state.collecting === null) throw new Error('A JsonText must be serialised with stringifyJson');
    state.collecting.push(this.text);
    return state.placeholder;
  }
}

interface SerialisationState {
  /** Stands for a JsonText in JSON.stringify's output; the random part keeps it from any real string. */
  readonly placeholder: string;
  /** The texts of the JsonTexts met by the JSON.stringify running now, in order; null outside stringifyJson. */
  collecting: string[] | null;
}

const state: SerialisationState = { placeholder: `json-text:${randomUUID()}`, collecting: null };

/** JSON.stringify, with every JsonText inside `value` written as its text. */
export function stringifyJson(value: unknown): string {
  const outer = state.collecting;
  const texts: string[] = [];
  state.collecting = texts;
  let json: string;
  try {
    json = JSON.stringify(value);
  } finally {
    state.collecting = outer;
  }
  if (texts.length === 0) return json;
  const parts = json.split(JSON.stringify(state.placeholder));
  let result = parts[0];
  for (let i = 0; i < texts.length; i++) result += texts[i] + parts[i + 1];
  return result;
}
