import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Logger } from '@triggers/core/runtime';
import { httpClient, type HttpClient } from '@triggers/core/testing';
import { startAllInOne, type RunningServer } from './server.ts';

/**
 * The whole thing on one port for a test: the all-in-one on 127.0.0.1 with a fresh data folder,
 * and a client for it. Starting everything belongs here, above the services; the services' tests
 * import it (a dev dependency); it imports no test kit, and testkit never imports it.
 */

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestServer extends HttpClient {
  server: RunningServer;
  dataDir: string;
  createCustomer(overrides?: { name?: string; email?: string }): Promise<{ customerId: string; apiKey: string }>;
  close(): Promise<void>;
}

/** `options.log`: where the server logs (default: nowhere, `TRIGGERS_LOG_LEVEL` silent). */
export async function startTestServer(env: Record<string, string> = {}, options: { log?: Logger } = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'triggers-test-'));
  const config = loadConfig({
    PORT: '0',
    TRIGGERS_HOST: '127.0.0.1',
    TRIGGERS_DATA_DIR: dataDir,
    TRIGGERS_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    TRIGGERS_LOG_LEVEL: 'silent',
    TRIGGERS_SQLITE_SYNCHRONOUS: 'normal',
    // The matcher and deliverer on the test's own thread (the default, stated so tests stay put if
    // it changes); services/all-in-one/src/pipeline-worker.test.ts covers the worker thread.
    TRIGGERS_EMBEDDED_PIPELINE: 'inline',
    ...env,
  });
  const server = await startAllInOne(config, { log: options.log });
  const client = httpClient(`http://127.0.0.1:${server.port}`, TEST_ADMIN_TOKEN);

  let customers = 0;
  return {
    url: client.url,
    request: client.request,
    server,
    dataDir,
    async createCustomer(overrides = {}) {
      customers++;
      const response = await client.request('POST', '/admin/test-customer', {
        admin: true,
        json: { name: overrides.name ?? `Customer ${customers}`, email: overrides.email ?? `c${customers}@example.test` },
      });
      if (response.status !== 201) throw new Error(`createCustomer: ${response.status} ${response.text}`);
      return { customerId: response.body.customer_id, apiKey: response.body.api_key };
    },
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
