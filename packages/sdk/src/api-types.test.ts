import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fetchOpenApiDocument } from '../../../scripts/openapi-types.ts';
import { renderSdkTypes, SDK_GENERATED_FILE } from '../../../scripts/generate-sdk-types.ts';

/** The SDK's request and response types come from the server, never from a copy kept by hand. */
describe('SDK API types (packages/sdk/src/api.gen.ts)', function () {
  this.timeout(60_000);

  it("match the server's /openapi.json (after a schema change: npm run generate:sdk-types)", async () => {
    const fresh = renderSdkTypes(await fetchOpenApiDocument());
    assert.equal(readFileSync(SDK_GENERATED_FILE, 'utf8'), fresh, 'packages/sdk/src/api.gen.ts is stale: run npm run generate:sdk-types');
  });
});
