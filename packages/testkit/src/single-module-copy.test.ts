// The test harness must load each module once. When mocha require()d the spec files (Node's
// require(esm) on 20.19+), tsx compiled them to CommonJS while code loaded with import() came in
// as ES modules: one process then held two copies of core, and an ExactNumber or JsonText made by
// one copy was foreign to the other (an `instanceof` failed, a JsonText refused to serialise).
// scripts/test.mjs runs node with --no-experimental-require-module so mocha import()s the specs.
import { strict as assert } from 'node:assert';
import { ExactNumber, stringifyJson } from '@triggers/core/domain';

describe('test harness: one copy of each module', () => {
  it('a statically imported core module is the same instance as one imported at run time', async () => {
    const lazy = await import('@triggers/core/domain');
    assert.equal(lazy.ExactNumber, ExactNumber, 'core/domain was loaded twice (CommonJS and ESM copies)');
    assert.equal(lazy.stringifyJson, stringifyJson);
  });

  it('a value made by the lazily imported copy is serialised by the static one', async () => {
    const lazy = await import('@triggers/core/domain');
    const parsed = lazy.parseJsonExactly('{"n":12345678901234567890}') as { n: unknown };
    assert.ok(parsed.n instanceof ExactNumber);
    const text = new lazy.JsonText('{"n":1e999}');
    assert.equal(stringifyJson({ payload: text }), '{"payload":{"n":1e999}}');
  });
});
