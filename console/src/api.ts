/** The console's only way to the server: the demo back end (`/demo/*`) and `/health`. No API key. */

export type EventStatus = 'pending' | 'delivered' | 'failed' | 'unmatched';
export type Priority = 'low' | 'normal' | 'high';

export interface InboxEvent {
  event_id: string;
  customer_id: string;
  payload: Record<string, unknown>;
  status: EventStatus;
  timestamp: string;
  delivery_attempts: number;
  last_delivery_timestamp: string | null;
}

export interface Attempt {
  workflow_id: string;
  attempt: number;
  status: 'succeeded' | 'failed' | 'retrying';
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  timestamp: string;
}

export interface EventWithAttempts extends InboxEvent {
  attempts: Attempt[];
}

export interface InboxPage {
  events: InboxEvent[];
  total: number;
  cursor: string | null;
  has_more: boolean;
}

export interface EmailResult {
  status: 'sent' | 'failed' | 'skipped';
  provider: string;
  to: string | null;
  id?: string;
  detail?: string;
}

export interface Decision {
  triggered: boolean;
  reason: string;
  keywords: string[];
  event_id?: string;
  timestamp?: string;
  payload?: Record<string, unknown>;
  email?: EmailResult;
}

export interface Ticket {
  key: string | null;
  summary: string;
  priority: Priority;
  jira_priority: string | null;
  description: string;
  reporter_email: string | null;
}

export interface TicketAnalysis extends Decision {
  ticket: Ticket;
  submitted: boolean;
}

export interface DemoStatus {
  customer_id: string;
  customer_name: string;
  mail: { provider: string; from: string };
  webhook_sink: { workflow_id: string; url: string } | null;
  urgent_keywords: string[];
}

export type Selector =
  | { type: 'event_type'; value: string }
  | { type: 'jsonpath'; expression: string }
  | { type: 'custom'; function: { field: string; operator: string; value?: unknown } }
  | { type: 'all' | 'any'; selectors: Selector[] };

export interface Subscription {
  workflow_id: string;
  customer_id: string;
  event_selector: Selector;
  webhook_url: string;
  description: string | null;
  status: 'active' | 'disabled';
  disabled_reason: string | null;
  created_at: string;
  updated_at: string;
  secret?: string;
}

export interface StatsBucket {
  start: string;
  total: number;
  delivered: number;
  pending: number;
  failed: number;
  unmatched: number;
}

export interface Stats {
  window_seconds: number;
  bucket_seconds: number;
  buckets: StatsBucket[];
  totals: Omit<StatsBucket, 'start'>;
  rate_per_second: number;
  truncated: boolean;
}

export interface OutboxMessage {
  id: string;
  from: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
  created_at: string;
}

export interface SinkReceipt {
  received_at: string;
  webhook_id: string | null;
  signature_verified: boolean;
  event_ids: string[];
  event_types: (string | null)[];
  bytes: number;
}

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
  health: () => request<{ status: string; environment: string }>('GET', '/health'),
  status: () => request<DemoStatus>('GET', '/demo/status'),
  trigger: (body: { document_type: string; priority: Priority; description: string; customer_email: string }) => request<Decision>('POST', '/demo/trigger', body),
  analyzeTicket: (text: string, submit: boolean) => request<TicketAnalysis>('POST', '/demo/analyze-ticket', { text, submit }),
  inbox: (filters: InboxFilters) => request<InboxPage>('GET', `/demo/inbox${query({ ...filters })}`),
  event: (id: string) => request<EventWithAttempts>('GET', `/demo/events/${encodeURIComponent(id)}`),
  replay: (id: string) => request<unknown>('POST', `/demo/events/${encodeURIComponent(id)}/replay`),
  subscriptions: () => request<{ subscriptions: Subscription[]; cursor: string | null; has_more: boolean }>('GET', '/demo/subscriptions?limit=100'),
  createSubscription: (body: { event_selector: Selector; webhook_url: string; description?: string }) => request<Subscription>('POST', '/demo/subscriptions', body),
  updateSubscription: (id: string, patch: Partial<Pick<Subscription, 'status' | 'description'>>) =>
    request<Subscription>('PATCH', `/demo/subscriptions/${encodeURIComponent(id)}`, patch),
  deleteSubscription: (id: string) => request<void>('DELETE', `/demo/subscriptions/${encodeURIComponent(id)}`),
  rotateSecret: (id: string) => request<{ workflow_id: string; secret: string; previous_secret_expires_at: string }>('POST', `/demo/subscriptions/${encodeURIComponent(id)}/rotate-secret`),
  testSelector: (event_selector: unknown, payload: Record<string, unknown>) =>
    request<{ valid: boolean; matches?: boolean; detail?: string }>('POST', '/demo/selectors/test', { event_selector, payload }),
  stats: (windowSeconds: number, bucketSeconds: number) => request<Stats>('GET', `/demo/stats${query({ window_seconds: windowSeconds, bucket_seconds: bucketSeconds })}`),
  outbox: () => request<{ provider: string; from: string; messages: OutboxMessage[] }>('GET', '/demo/outbox?limit=100'),
  burst: (count: number) => request<{ accepted: number; event_ids: string[] }>('POST', '/demo/burst', { count }),
  sink: () => request<{ workflow_id: string | null; receipts: SinkReceipt[] }>('GET', '/demo/webhook-sink'),
};

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.detail;
  return error instanceof Error ? error.message : String(error);
}
