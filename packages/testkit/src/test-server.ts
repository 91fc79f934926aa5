import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '@triggers/core/config.ts';
import { startAllInOne, type RunningServer } from '@triggers/all-in-one/server.ts';

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestServer {
  url: string;
  server: RunningServer;
  dataDir: string;
  /** fetch against the server; `apiKey`/`admin` set the bearer token, `json` sends a JSON body. */
  request(method: string, urlPath: string, options?: RequestOptions): Promise<TestResponse>;
  createCustomer(overrides?: { name?: string; email?: string }): Promise<{ customerId: string; apiKey: string }>;
  close(): Promise<void>;
}

export interface RequestOptions {
  apiKey?: string;
  admin?: boolean;
  json?: unknown;
  body?: string;
  headers?: Record<string, string>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
}

/** Starts the all-in-one on 127.0.0.1 with a fresh data folder. */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'triggers-test-'));
  const config = loadConfig({
    PORT: '0',
    TRIGGERS_HOST: '127.0.0.1',
    TRIGGERS_DATA_DIR: dataDir,
    TRIGGERS_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    TRIGGERS_LOG_LEVEL: 'silent',
    TRIGGERS_SQLITE_SYNCHRONOUS: 'normal',
    // The matcher and deliverer on the test's own thread (the default, stated so tests stay put if
    // it changes); packages/all-in-one/src/pipeline-worker.test.ts covers the worker thread.
    TRIGGERS_EMBEDDED_PIPELINE: 'inline',
    ...env,
  });
  const server = await startAllInOne(config);
  const url = `http://127.0.0.1:${server.port}`;

  const request = async (method: string, urlPath: string, options: RequestOptions = {}): Promise<TestResponse> => {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
    if (options.admin) headers.authorization = `Bearer ${TEST_ADMIN_TOKEN}`;
    let body = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(url + urlPath, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  };

  let customers = 0;
  return {
    url,
    server,
    dataDir,
    request,
    async createCustomer(overrides = {}) {
      customers++;
      const response = await request('POST', '/admin/test-customer', {
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
