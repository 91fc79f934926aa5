import { startTestServer, type TestServer } from '@triggers/all-in-one/test-server';
import type { TestResponse } from '@triggers/core/testing';
import { post, type CustomerCredentials } from '@triggers/testkit';

/** What an ingest route's tests share; `server` and `customer` are set by the hooks. */
export interface IngestRouteFixture {
  server: TestServer;
  /** A new customer for each test. */
  customer: CustomerCredentials;
  /** POSTs `json` to the route with the customer's API key. */
  send(json: unknown, headers?: Record<string, string>): Promise<TestResponse>;
}

/**
 * For the describe block of an ingest route: an all-in-one whose payload limit is `maxBytes` (API
 * keys cached for 100 ms), started before the block and closed after it, and a new customer before
 * each test.
 */
export function ingestRoute(routePath: string, maxBytes: number): IngestRouteFixture {
  const fixture = {
    send: (json: unknown, headers: Record<string, string> = {}) => post(fixture.server, routePath, fixture.customer.apiKey, json, headers),
  } as IngestRouteFixture;
  before(async () => {
    fixture.server = await startTestServer({ TRIGGERS_MAX_PAYLOAD_BYTES: String(maxBytes), TRIGGERS_API_KEY_CACHE_MS: '100' });
  });
  after(async () => {
    await fixture.server?.close();
  });
  beforeEach(async () => {
    fixture.customer = await fixture.server.createCustomer();
  });
  return fixture;
}
