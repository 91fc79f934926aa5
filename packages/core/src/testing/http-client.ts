export interface RequestOptions {
  apiKey?: string;
  /** Sends the client's admin token as the bearer token. */
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

/**
 * `fetch` against a running server (the embedded all-in-one, or one service process): `apiKey`
 * or `admin` set the bearer token, `json` sends a JSON body, and the body comes back parsed.
 * Helpers taking a `HttpClient` (`waitForEventStatus`) work against either.
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
