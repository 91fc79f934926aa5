import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { compareNumbers, ExactNumber, readJsonNumber } from './exact-number.ts';
import { JsonText, stringifyJson } from './json-text.ts';
import { locateBatchPayloads, locateEventPayload } from './locate-payloads.ts';
import { parseJsonExactly } from './parse-exactly.ts';

const exact = (text: string) => {
  const value = readJsonNumber(text);
  assert.ok(value instanceof ExactNumber, `${text} should not fit a double exactly`);
  return value;
};

describe('payload JSON kept as text', () => {
  describe('locateEventPayload / locateBatchPayloads', () => {
    it('finds the payload text as sent: number spelling, escapes, key order and duplicate keys kept', () => {
      const payload = '{"b":12345678901234567890,"a":-0,"x":1.0,"big":1e999,"s":"\\u00e9\\n","b":2,"__proto__":{"k":[]}}';
      const found = locateEventPayload(`{"payload":${payload}}`);
      assert.equal(found?.json.text, payload);
      assert.equal(found?.depth, 3);
    });

    it('drops whitespace between tokens, keeps it inside strings', () => {
      const found = locateEventPayload('{ "payload" :\n {\n  "a" : [ 1 , 2 ],\t"s": " a  b\\" " }\r\n}');
      assert.equal(found?.json.text, '{"a":[1,2],"s":" a  b\\" "}');
    });

    it('takes the last of repeated "payload" keys, as JSON.parse does, and reads escaped key names', () => {
      assert.equal(locateEventPayload('{"payload":{"first":1},"p\\u0061yload":{"second":2}}')?.json.text, '{"second":2}');
      assert.equal(locateEventPayload('{"other":{"payload":{}}}'), undefined);
      assert.equal(locateEventPayload('[{"payload":{}}]'), undefined);
    });

    it('measures nesting with the payload object as level 1, strings not counting', () => {
      assert.equal(locateEventPayload('{"payload":{}}')?.depth, 1);
      assert.equal(locateEventPayload('{"payload":{"a":"[[[{{{"}}')?.depth, 1);
      const deep = `${'{"a":'.repeat(199)}{}${'}'.repeat(199)}`;
      assert.equal(locateEventPayload(`{"payload":${deep}}`)?.depth, 200);
    });

    it('finds each item payload of a batch by index', () => {
      const found = locateBatchPayloads('{"events":[{"payload":{"n":1}}, 7, {"x":1}, {"payload":{"n":12345678901234567890}}]}');
      assert.equal(found.length, 4);
      assert.equal(found[0]?.json.text, '{"n":1}');
      assert.equal(found[1], undefined);
      assert.equal(found[2], undefined);
      assert.equal(found[3]?.json.text, '{"n":12345678901234567890}');
    });
  });

  describe('stringifyJson', () => {
    it('writes a JsonText as its text, anywhere in the value', () => {
      const payloads = ['{"n":12345678901234567890}', '{"m":-9007199254740993,"z":1e999}'];
      const body = stringifyJson({ events: payloads.map((p, i) => ({ i, payload: new JsonText(p) })), note: 'x' });
      assert.equal(body, `{"events":[{"i":0,"payload":${payloads[0]}},{"i":1,"payload":${payloads[1]}}],"note":"x"}`);
    });

    it('is JSON.stringify for values without a JsonText', () => {
      const value = { a: [1, 'two', null, { b: true }], s: 'json-text:' };
      assert.equal(stringifyJson(value), JSON.stringify(value));
    });

    it('refuses a plain JSON.stringify of a JsonText (it would lose the text), also after a stringifyJson', () => {
      stringifyJson({ payload: JsonText.of({}) });
      assert.throws(() => JSON.stringify({ payload: JsonText.of({}) }), /stringifyJson/);
    });
  });

  describe('parseJsonExactly', () => {
    it('keeps numbers a double cannot hold as ExactNumbers, everything else as JSON.parse gives it', () => {
      const text = '{"big":12345678901234567890,"neg":-9007199254740993,"inf":1e999,"tiny":1e-400,"ok":9007199254740992,"f":0.1,"one":1.0,"z":-0,"e":1.5e3,"s":"\\u00e9","a":[1,{"b":null}]}';
      const value = parseJsonExactly(text) as Record<string, unknown>;
      for (const key of ['big', 'neg', 'inf', 'tiny']) assert.ok(value[key] instanceof ExactNumber, key);
      assert.equal(String(value.big), '12345678901234567890');
      assert.equal(String(value.inf), '1e999');
      assert.equal(value.ok, 9007199254740992);
      assert.equal(value.f, 0.1);
      assert.equal(value.one, 1);
      assert.ok(Object.is(value.z, -0));
      assert.equal(value.e, 1500);
      assert.equal(value.s, 'é');
      assert.deepEqual(value.a, [1, { b: null }]);
    });

    it('makes `__proto__` an own key and lets the last duplicate key win, like JSON.parse', () => {
      const text = '{"__proto__":{"polluted":true},"k":1,"k":12345678901234567890}';
      const value = parseJsonExactly(text) as Record<string, unknown>;
      assert.ok(Object.hasOwn(value, '__proto__'));
      assert.equal(Object.getPrototypeOf(value), Object.prototype);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.equal(String(value.k), '12345678901234567890');
      assert.deepEqual(Object.keys(value), Object.keys(JSON.parse(text)));
    });

    it('gives JSON.parse results for text without such numbers, including digits inside strings', () => {
      for (const text of ['{"a":1,"b":[true,false,null],"c":"12345678901234567890","d":"4e5"}', '{"a":1e2}', '{"t":" , 1234567890123456789"}']) {
        assert.deepEqual(parseJsonExactly(text), JSON.parse(text), text);
      }
    });

    it('rejects text that is not JSON', () => {
      for (const text of ['{"a":12345678901234567890', '{"a":1e5,}', '{"a":01e5}', '{"a":1e5} x']) assert.throws(() => parseJsonExactly(text), SyntaxError, text);
    });

    it('JsonText.value() parses once', () => {
      const json = new JsonText<Record<string, unknown>>('{"n":12345678901234567890}');
      assert.equal(json.value(), json.value());
    });
  });

  describe('compareNumbers', () => {
    it('orders numbers beyond a double exactly, against each other and against doubles', () => {
      assert.equal(compareNumbers(exact('12345678901234567890'), exact('12345678901234567891')), -1);
      assert.equal(compareNumbers(exact('12345678901234567890'), 12345678901234567000), 1);
      assert.equal(compareNumbers(exact('-9007199254740993'), -9007199254740992), -1);
      assert.equal(compareNumbers(exact('1e999'), Number.MAX_VALUE), 1);
      assert.equal(compareNumbers(exact('-1e999'), -Number.MAX_VALUE), -1);
      assert.equal(compareNumbers(exact('1e999'), exact('2e999')), -1);
      assert.equal(compareNumbers(exact('1e-400'), 0), 1);
      assert.equal(compareNumbers(exact('-1e-400'), -0), -1);
      assert.equal(compareNumbers(exact('1e99999999999999999999'), exact('1e99999999999999999998')), 1);
    });

    it('equal values are equal whatever their spelling', () => {
      assert.equal(compareNumbers(exact('12345678901234567890'), exact('1234567890123456789.0e1')), 0);
      assert.equal(compareNumbers(exact('10000000000000000000000000001e-1'), exact('1000000000000000000000000000.1')), 0);
      assert.equal(compareNumbers(-0, 0), 0);
      assert.equal(readJsonNumber('0e999'), 0);
      assert.equal(readJsonNumber('1.0'), 1);
    });
  });
});
