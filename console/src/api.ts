/** The console's only way to the server: the demo back end (`/demo/*`) and `/health`. No API key. */

import type * as Server from './api.gen.ts';

// The server's own types (console/src/api.gen.ts, generated from /openapi.json), under the names
// the pages use.
export type {
  Attempt,
  Decision,
  DemoStatus,
  EmailResult,
  EventWithAttempts,
  InboxEvent,
  InboxPage,
  OutboxMessage,
  Replay,
  ReplayCreateBody,
  SinkReceipt,
  Stats,
  Ticket,
  TicketAnalysis,
} from './api.gen.ts';
export { CUSTOM_OPERATORS } from './api.gen.ts';
export type EventStatus = Server.InboxEvent['status'];
export type ReplayFilter = Server.ReplayCreateBody['filter'];
export type Priority = Server.TriggerBody['priority'];
export type StatsBucket = Server.Stats['buckets'][number];

/**
 * A selector, nested ones included. The OpenAPI document describes nested selectors loosely (it
 * cannot hold a recursive schema); the server only ever stores and returns valid ones.
 */
export type Selector = Exclude<Server.EventSelector, { type: 'all' | 'any' }> | { type: 'all' | 'any'; selectors: Selector[] };
export type Subscription = Omit<Server.Subscription, 'event_selector'> & { event_selector: Selector; secret?: string };

/** An RFC 9457 problem from the server, or a network failure (`status` 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network_error', 'The server could not be reached. Is `npm start` still running?');
  }
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const problem = (parsed ?? {}) as { code?: string; detail?: string; title?: string };
    const retryAfter = response.headers.get('retry-after');
    const detail = problem.detail ?? problem.title ?? `The server answered ${response.status}.`;
    throw new ApiError(response.status, problem.code ?? 'error', retryAfter ? `${detail} Retry in ${retryAfter} s.` : detail);
  }
  return parsed as T;
}

export interface InboxFilters {
  status?: EventStatus | '';
  event_type?: string;
  start_time?: string;
  end_time?: string;
  limit?: number;
  cursor?: string;
}

function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(name, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

export const api = {
  health: () => request<Server.Health>('GET', '/health'),
  status: () => request<Server.DemoStatus>('GET', '/demo/status'),
  trigger: (body: Server.TriggerBody) => request<Server.Decision>('POST', '/demo/trigger', body),
  analyzeTicket: (text: string, submit: boolean) => request<Server.TicketAnalysis>('POST', '/demo/analyze-ticket', { text, submit }),
  inbox: (filters: InboxFilters) => request<Server.InboxPage>('GET', `/demo/inbox${query({ ...filters })}`),
  /** For an EventSource: the demo customer's live events (`event: event` messages), as the public stream sends them. */
  eventStreamUrl: (filters: Pick<InboxFilters, 'event_type' | 'status'>) => `/demo/events/stream${query({ ...filters })}`,
  event: (id: string) => request<Server.EventWithAttempts>('GET', `/demo/events/${encodeURIComponent(id)}`),
  replay: (id: string) => request<unknown>('POST', `/demo/events/${encodeURIComponent(id)}/replay`),
  createReplay: (body: Server.ReplayCreateBody) => request<Server.Replay>('POST', '/demo/replays', body),
  replayJob: (id: string) => request<Server.Replay>('GET', `/demo/replays/${encodeURIComponent(id)}`),
  cancelReplay: (id: string) => request<void>('DELETE', `/demo/replays/${encodeURIComponent(id)}`),
  subscriptions: () => request<Omit<Server.SubscriptionPage, 'subscriptions'> & { subscriptions: Subscription[] }>('GET', '/demo/subscriptions?limit=100'),
  createSubscription: (body: Omit<Server.SubscriptionCreateBody, 'event_selector'> & { event_selector: Selector }) =>
    request<Subscription & { secret: string }>('POST', '/demo/subscriptions', body),
  updateSubscription: (id: string, patch: Pick<Server.SubscriptionUpdateBody, 'status' | 'description'>) =>
    request<Subscription>('PATCH', `/demo/subscriptions/${encodeURIComponent(id)}`, patch),
  deleteSubscription: (id: string) => request<void>('DELETE', `/demo/subscriptions/${encodeURIComponent(id)}`),
  rotateSecret: (id: string) => request<Server.RotatedSecret>('POST', `/demo/subscriptions/${encodeURIComponent(id)}/rotate-secret`),
  testSelector: (event_selector: unknown, payload: Record<string, unknown>) =>
    request<Server.SelectorTestResult>('POST', '/demo/selectors/test', { event_selector, payload }),
  stats: (windowSeconds: number, bucketSeconds: number) => request<Server.Stats>('GET', `/demo/stats${query({ window_seconds: windowSeconds, bucket_seconds: bucketSeconds })}`),
  outbox: () => request<Server.Outbox>('GET', '/demo/outbox?limit=100'),
  burst: (count: number) => request<Server.BurstResult>('POST', '/demo/burst', { count }),
  sink: () => request<Server.SinkReceipts>('GET', '/demo/webhook-sink'),
};

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.detail;
  return error instanceof Error ? error.message : String(error);
}
