import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';

/**
 * A local webhook receiver for end-to-end delivery tests: answers from a script, records every
 * request exactly as it arrived, and lets a test wait for the n-th one.
 */

/** How the receiver answers one request. */
export interface ScriptedAnswer {
  /** Default 200. */
  status?: number;
  /** E.g. `{ 'retry-after': '1' }` or `{ location: '/moved' }`. */
  headers?: Record<string, string>;
  /** Default empty. */
  body?: string;
  /** Waits this long before answering. */
  delayMs?: number;
  /** Never answers: the connection stays open until the client gives up or the receiver closes. */
  hang?: boolean;
}

export interface ReceivedRequest {
  /** `Date.now()` when the request's headers arrived. */
  receivedAt: number;
  method: string;
  /** Path and query, as sent. */
  path: string;
  /** Lower-case names, as node:http gives them. */
  headers: IncomingHttpHeaders;
  /** The raw body as text (what a signature is computed over). */
  body: string;
  /** What the receiver answered. */
  answer: ScriptedAnswer;
}

/** Decides the answer once the scripted ones ran out. */
export type AnswerRule = ScriptedAnswer | ((request: Omit<ReceivedRequest, 'answer'>, index: number) => ScriptedAnswer);

export interface WebhookReceiverOptions {
  /** Answers for the first requests, in order. */
  answers?: ScriptedAnswer[];
  /** The answer after the script ran out; default `{ status: 200 }`. */
  otherwise?: AnswerRule;
  /** Default 127.0.0.1; `::1` for an IPv6 loopback receiver. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
}

export interface WebhookReceiver {
  readonly port: number;
  /** `http://127.0.0.1:<port>` (IPv6 hosts in brackets). */
  readonly origin: string;
  /** `origin` + `path` (default `/hook`). */
  url(path?: string): string;
  /** Every request so far, oldest first. */
  readonly requests: readonly ReceivedRequest[];
  /** Appends answers to the script. */
  script(...answers: ScriptedAnswer[]): void;
  /** Replaces the answer used once the script ran out. */
  answerOtherwise(rule: AnswerRule): void;
  /** Resolves with the requests once at least `count` arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  /** Stops listening and drops open connections, hung ones included. */
  close(): Promise<void>;
}

export async function startWebhookReceiver(options: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  const { host = '127.0.0.1', port = 0 } = options;
  const queued: ScriptedAnswer[] = [...(options.answers ?? [])];
  let otherwise: AnswerRule = options.otherwise ?? { status: 200 };
  const requests: ReceivedRequest[] = [];
  const waiters = new Set<() => void>();
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  const answerFor = (request: Omit<ReceivedRequest, 'answer'>): ScriptedAnswer => {
    const next = queued.shift();
    if (next) return next;
    return typeof otherwise === 'function' ? otherwise(request, requests.length) : otherwise;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const receivedAt = Date.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const seen = { receivedAt, method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
    const answer = answerFor(seen);
    requests.push({ ...seen, answer });
    for (const wake of [...waiters]) wake();
    if (answer.hang || closed) return;
    const reply = () => {
      if (res.destroyed) return;
      res.writeHead(answer.status ?? 200, answer.headers ?? {});
      res.end(answer.body ?? '');
    };
    if (answer.delayMs && answer.delayMs > 0) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        reply();
      }, answer.delayMs);
      timers.add(timer);
    } else {
      reply();
    }
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const boundPort = (server.address() as AddressInfo).port;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;

  return {
    port: boundPort,
    origin,
    url: (path = '/hook') => origin + path,
    requests,
    script: (...answers) => void queued.push(...answers),
    answerOtherwise: (rule) => void (otherwise = rule),
    waitFor(count, timeoutMs = 5000) {
      if (requests.length >= count) return Promise.resolve([...requests]);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`Receiver ${origin} got ${requests.length} of ${count} requests within ${timeoutMs} ms`));
        }, timeoutMs);
        const check = () => {
          if (requests.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve([...requests]);
        };
        waiters.add(check);
      });
    },
    close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** Receivers started through this are closed by `closeAll` (call it in `afterEach`). */
export function receiverPool(): { start(options?: WebhookReceiverOptions): Promise<WebhookReceiver>; closeAll(): Promise<void> } {
  const open: WebhookReceiver[] = [];
  return {
    async start(options) {
      const receiver = await startWebhookReceiver(options);
      open.push(receiver);
      return receiver;
    },
    async closeAll() {
      await Promise.all(open.splice(0).map((r) => r.close()));
    },
  };
}

/** The three Standard Webhooks headers of a received request. */
export function webhookHeaders(request: Pick<ReceivedRequest, 'headers'>): Record<string, string> {
  const pick = (name: string) => {
    const value = request.headers[name];
    assert.equal(typeof value, 'string', `header ${name}`);
    return value as string;
  };
  return { 'webhook-id': pick('webhook-id'), 'webhook-timestamp': pick('webhook-timestamp'), 'webhook-signature': pick('webhook-signature') };
}

/** Verifies a received request with the `standardwebhooks` package, as a customer's receiver would; throws if it does not verify. */
export function verifySignature(request: Pick<ReceivedRequest, 'headers' | 'body'>, secret: string): unknown {
  return new Webhook(secret).verify(request.body, webhookHeaders(request));
}

/** The event ids in a received webhook's body (none when it is not a JSON array of events). */
export function eventIdsIn(request: Pick<ReceivedRequest, 'body'>): string[] {
  try {
    return (JSON.parse(request.body) as { event_id: string }[]).map((e) => e.event_id);
  } catch {
    return [];
  }
}
