import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '@triggers/all-in-one/test-server';
import { describeRouteSecurity } from '@triggers/testkit';
import { ingestRoutes } from './index.ts';

describe('Ingest service security', () => {
  let server: TestServer;
  before(async () => {
    // A short key cache, so revoked and expired keys are refused within the tests' patience.
    server = await startTestServer({ TRIGGERS_API_KEY_CACHE_MS: '100' });
  });
  after(async () => {
    await server?.close();
  });

  describeRouteSecurity({
    server: () => server,
    routes: () => ingestRoutes(server.server.ctx),
    adminToken: TEST_ADMIN_TOKEN,
    kinds: ['api_key'],
    validBodies: {
      '/api/v1/events': () => ({ payload: { event_type: 'auth.check' } }),
      '/api/v1/events/batch': () => ({ events: [1, 2, 3].map((n) => ({ payload: { event_type: 'auth.check', n } })) }),
    },
  });
});
