import assert from 'node:assert/strict';
import { eventRequestSchema, isPlainEventRequest } from './schemas.ts';

describe('the event request shortcut past the schema', function () {
  const bodies = [
    '{"payload":{}}',
    '{"payload":{"event_type":"order.created","n":1,"nested":{"a":[1,{"b":null}]}}}',
    '{"payload":{"__proto__":{"x":1},"constructor":2}}',
    '{"__proto__":{},"payload":{}}',
    '{"payload":{},"extra":1}',
    '{"payload":[]}',
    '{"payload":null}',
    '{"payload":"text"}',
    '{"payload":1}',
    '{}',
    '[]',
    'null',
    '"payload"',
    '[{"payload":{}}]',
    '{"Payload":{}}',
  ];

  it('accepts only bodies the schema accepts, and the schema returns them unchanged', function () {
    let accepted = 0;
    for (const text of bodies) {
      const value: unknown = JSON.parse(text);
      const schema = eventRequestSchema.safeParse(value);
      if (isPlainEventRequest(value)) {
        accepted++;
        assert.ok(schema.success, `the schema accepts ${text}`);
        assert.equal(JSON.stringify(schema.data), JSON.stringify(value), `the schema returns ${text} unchanged`);
      }
    }
    assert.equal(accepted, 2, 'the two plain bodies take the shortcut');
  });

  it('leaves every body the schema refuses (and the __proto__ ones) to the schema', function () {
    for (const text of bodies.slice(2)) assert.equal(isPlainEventRequest(JSON.parse(text)), false, text);
  });
});
