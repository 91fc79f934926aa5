import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startTestServer, type TestServer } from '@triggers/all-in-one/test-server';
import { GENERATED_FILE, renderConsoleApi } from '../../scripts/generate-console-api.ts';
import { fetchOpenApiDocument } from '../../scripts/openapi-types.ts';
import { SDK_TYPES } from '../../scripts/generate-sdk-types.ts';
import { CUSTOM_OPERATORS } from '../src/api.gen.ts';

/** The console's API types and operator list come from the server, never from a copy kept by hand. */
describe('Console API types (console/src/api.gen.ts)', function () {
  this.timeout(60_000);

  it("match the server's /openapi.json (after a schema change: npm run generate:console-api)", async () => {
    const fresh = renderConsoleApi(await fetchOpenApiDocument());
    assert.equal(readFileSync(GENERATED_FILE, 'utf8'), fresh, 'console/src/api.gen.ts is stale: run npm run generate:console-api');
  });

  it("take the public API's types from the SDK instead of declaring them again", () => {
    const text = readFileSync(GENERATED_FILE, 'utf8');
    assert.match(text, /^import type \{ [^}]*\bInboxEvent\b[^}]* \} from '@triggers\/sdk';$/m);
    const redeclared = SDK_TYPES.map(([name]) => name).filter((name) => new RegExp(`^export type ${name} =`, 'm').test(text));
    assert.deepEqual(redeclared, []);
  });

  describe('the selector operators', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ TRIGGERS_DEMO: '1' });
    });
    after(async () => {
      await server?.close();
    });

    it('are exactly those the selector compiler accepts, in its order', async () => {
      // The compiler names every operator it knows when it refuses an unknown one.
      const response = await server.request('POST', '/demo/selectors/test', {
        json: { event_selector: { type: 'custom', function: { field: 'x', operator: 'no_such_operator' } }, payload: {} },
      });
      assert.equal(response.status, 200, response.text);
      assert.equal(response.body.valid, false);
      const known = /expected one of ([a-z_, ]+)/.exec(response.body.detail)?.[1];
      assert.ok(known, response.body.detail);
      assert.deepEqual(known.split(', '), [...CUSTOM_OPERATORS]);
    });
  });
});
