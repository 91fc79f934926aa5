import assert from 'node:assert/strict';
import { z } from 'zod';
import { NOT_BLANK_PATTERN, nonBlankText } from './schemas.ts';

describe('nonBlankText: typed text, trimmed, and its document', () => {
  it('its pattern matches exactly the UTF-16 code units String.prototype.trim keeps', () => {
    const keeps = new RegExp(`^${NOT_BLANK_PATTERN}$`, 'u');
    const differ: string[] = [];
    for (let unit = 0; unit <= 0xffff; unit++) {
      if (unit >= 0xd800 && unit <= 0xdfff) continue; // lone surrogates: not text on their own
      const ch = String.fromCharCode(unit);
      if (keeps.test(ch) !== (ch.trim() !== '')) differ.push(unit.toString(16));
    }
    assert.deepEqual(differ, []);
  });

  it('accepts what the document allows and refuses what it forbids', () => {
    const schema = nonBlankText(5);
    const documented = z.toJSONSchema(schema) as { pattern?: string; maxLength?: number; minLength?: number };
    assert.equal(documented.pattern, NOT_BLANK_PATTERN);
    assert.equal(documented.maxLength, 5);
    const allowedByDocument = (text: string) => text.length <= 5 && text.length >= (documented.minLength ?? 0) && new RegExp(documented.pattern!, 'u').test(text);
    for (const text of ['a', ' a ', '\n', '', '   ', '\u3000x', 'abcde', ' abcd ', 'abcdef', '\ufeff']) {
      const parsed = schema.safeParse(text);
      assert.equal(parsed.success, allowedByDocument(text), JSON.stringify(text));
      if (parsed.success) assert.equal(parsed.data, text.trim());
    }
  });
});
