import type { RequestOptions, TestResponse } from './test-server.ts';

/**
 * `fetch` against one service process (ingest, inbox, ...), shaped like `TestServer.request` so
 * helpers written for the embedded server (`waitForEventStatus`) work against a process too.
 */
export interface HttpClient {
  readonly url: string;
  request(method: string, urlPath: string, options?: RequestOptions): Promise<TestResponse>;
}

export function httpClient(url: string, adminToken?: string): HttpClient {
  return {
    url,
    async request(method, urlPath, options = {}) {
      const headers: Record<string, string> = { ...(options.headers ?? {}) };
      if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
      if (options.admin) {
        if (!adminToken) throw new Error('httpClient: no admin token');
        headers.authorization = `Bearer ${adminToken}`;
      }
      let body = options.body;
      if (options.json !== undefined) {
        body = JSON.stringify(options.json);
        headers['content-type'] ??= 'application/json';
      }
      const response = await fetch(url + urlPath, { method, headers, body, signal: AbortSignal.timeout(30_000) });
      const text = await response.text();
      let parsed: unknown = undefined;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: response.status, headers: response.headers, body: parsed, text };
    },
  };
}
