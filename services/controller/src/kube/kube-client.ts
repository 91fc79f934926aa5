import fs from 'node:fs';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { coerceError } from '@triggers/core/domain';

/**
 * A small JSON client for the Kubernetes API on top of client-node's KubeConfig (which knows
 * kubeconfig files, in-cluster service-account tokens, CAs and client certificates). It speaks the
 * REST API directly so that every verb, content type (merge patch) and status code (404, 409, 410)
 * is visible to the caller; client-node 1.x's generated clients hide some of them.
 */

export interface KubeStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
}

/** A failed API call: `status` is the HTTP status (0: no answer). */
export class KubeError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason?: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = 'KubeError';
  }
}

export const isNotFound = (error: unknown): boolean => error instanceof KubeError && error.status === 404;
export const isConflict = (error: unknown): boolean => error instanceof KubeError && error.status === 409;
export const isGone = (error: unknown): boolean => error instanceof KubeError && error.status === 410;

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export interface WatchStream {
  /** Resolves when the server ends the watch; rejects on a transport or HTTP error. */
  readonly done: Promise<void>;
  /** Ends the watch from this side (`done` then resolves). */
  abort(): void;
}

export interface RequestOptions {
  body?: unknown;
  /** Default `application/json`; `application/merge-patch+json` for a merge patch. */
  contentType?: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** Overrides `Accept` (e.g. metadata-only lists). */
  accept?: string;
}

export interface KubeClient {
  request<T>(method: string, path: string, options?: RequestOptions): Promise<T>;
  /** Streams watch events of `path` (a collection) until the server or `abort()` ends it. */
  watch<T>(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: (event: WatchEvent<T>) => void,
    options?: { accept?: string; /** Ends the watch from this side after this long, whatever the connection does. */ maxDurationMs?: number },
  ): WatchStream;
  /** Mutating requests sent so far by verb (POST, PUT, PATCH, DELETE): what the leader-election tests count. */
  readonly writes: Readonly<Record<string, number>>;
}

const REQUEST_TIMEOUT_MS = 30_000;

function withQuery(path: string, query: RequestOptions['query']): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}${path.includes('?') ? '&' : '?'}${qs}` : path;
}

async function readBody(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function errorFrom(statusCode: number, text: string): KubeError {
  let status: KubeStatus = {};
  try {
    status = JSON.parse(text) as KubeStatus;
  } catch {
    // not a Status object
  }
  return new KubeError(statusCode, status.message ?? (text.slice(0, 200) || `HTTP ${statusCode}`), status.reason);
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * Loads the kubeconfig file at `path`, or the pod's service account when `path` is undefined.
 * Throws a message a person can act on when neither is there (not in a pod, no kubeconfig set).
 */
export function loadKubeConfig(path: string | undefined, serviceAccountToken = SERVICE_ACCOUNT_TOKEN): KubeConfig {
  const kc = new KubeConfig();
  if (path) {
    if (!fs.existsSync(path)) throw new Error(`No kubeconfig at ${path} (TRIGGERS_CONTROLLER_KUBECONFIG)`);
    kc.loadFromFile(path);
  } else {
    if (!fs.existsSync(serviceAccountToken)) {
      throw new Error(`Not running in a pod (no ${serviceAccountToken}): set TRIGGERS_CONTROLLER_KUBECONFIG to a kubeconfig file`);
    }
    kc.loadFromCluster();
  }
  return kc;
}

export function createKubeClient(kc: KubeConfig): KubeClient {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('The kubeconfig has no current cluster');
  const server = new URL(cluster.server);
  const writes: Record<string, number> = {};

  async function open(method: string, path: string, headers: Record<string, string>, timeoutMs: number | null): Promise<{ req: import('node:http').ClientRequest; options: https.RequestOptions }> {
    const options: https.RequestOptions = { method, headers: { ...headers } };
    await kc.applyToHTTPSOptions(options);
    const req = https.request({
      ...options,
      protocol: server.protocol,
      hostname: server.hostname,
      port: server.port || 443,
      path: (server.pathname === '/' ? '' : server.pathname.replace(/\/$/, '')) + path,
      headers: { ...(options.headers as Record<string, string>), ...headers },
      ...(timeoutMs === null ? {} : { timeout: timeoutMs }),
    });
    return { req, options };
  }

  return {
    writes,
    async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
      if (method !== 'GET') writes[method] = (writes[method] ?? 0) + 1;
      const body = options.body === undefined ? undefined : JSON.stringify(options.body);
      const headers: Record<string, string> = { accept: options.accept ?? 'application/json' };
      if (body !== undefined) {
        headers['content-type'] = options.contentType ?? 'application/json';
        headers['content-length'] = String(Buffer.byteLength(body));
      }
      const { req } = await open(method, withQuery(path, options.query), headers, REQUEST_TIMEOUT_MS);
      return new Promise<T>((resolve, reject) => {
        req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
        req.on('error', (error) => reject(new KubeError(0, `${method} ${path}: ${coerceError(error).message}`, undefined, { cause: error })));
        req.on('response', (response) => {
          readBody(response).then((text) => {
            const code = response.statusCode ?? 0;
            if (code >= 200 && code < 300) resolve((text ? JSON.parse(text) : undefined) as T);
            else reject(errorFrom(code, text));
          }, reject);
        });
        req.end(body);
      });
    },

    watch<T>(
      path: string,
      query: Record<string, string | number | boolean | undefined>,
      onEvent: (event: WatchEvent<T>) => void,
      options: { accept?: string; maxDurationMs?: number } = {},
    ): WatchStream {
      let aborted = false;
      let request: import('node:http').ClientRequest | undefined;
      // A half-open connection (a peer gone without a FIN) would keep a watch silent for good:
      // past the server's own timeout, end it here and let the informer resume.
      const deadline = options.maxDurationMs
        ? setTimeout(() => {
            aborted = true;
            request?.destroy();
          }, options.maxDurationMs)
        : undefined;
      const done = (async () => {
        const { req } = await open('GET', withQuery(path, { ...query, watch: true }), { accept: options.accept ?? 'application/json' }, null);
        request = req;
        if (aborted) req.destroy();
        // A watch may be idle for minutes: keep-alive probes find a dead peer the server cannot tell us about.
        req.setSocketKeepAlive(true, 30_000);
        await new Promise<void>((resolve, reject) => {
          req.on('error', (error) => (aborted ? resolve() : reject(new KubeError(0, `watch ${path}: ${coerceError(error).message}`, undefined, { cause: error }))));
          req.on('response', (response) => {
            const code = response.statusCode ?? 0;
            if (code !== 200) {
              readBody(response).then((text) => reject(errorFrom(code, text)), reject);
              return;
            }
            response.setEncoding('utf8');
            let buffered = '';
            response.on('data', (chunk: string) => {
              buffered += chunk;
              let newline: number;
              while ((newline = buffered.indexOf('\n')) >= 0) {
                const line = buffered.slice(0, newline).trim();
                buffered = buffered.slice(newline + 1);
                if (!line || aborted) continue;
                let event: WatchEvent<T>;
                try {
                  event = JSON.parse(line) as WatchEvent<T>;
                } catch {
                  continue; // a torn line can only come from a broken connection, which ends the watch anyway
                }
                onEvent(event);
              }
            });
            response.on('end', () => resolve());
            response.on('aborted', () => (aborted ? resolve() : reject(new KubeError(0, `watch ${path}: the connection was cut`))));
            response.on('error', (error) => (aborted ? resolve() : reject(new KubeError(0, `watch ${path}: ${coerceError(error).message}`, undefined, { cause: error }))));
          });
          req.end();
        });
      })().finally(() => clearTimeout(deadline));
      return {
        done,
        abort() {
          aborted = true;
          request?.destroy();
        },
      };
    },
  };
}
