/**
 * The drill's load: an open-loop generator posting `rate` events per second for `durationMs`, as
 * `POST /api/v1/events/batch` requests of `batchSize` events, round-robin over the customers. It
 * does not slow down when the server does (requests beyond `maxInFlight` open ones are counted
 * as not sent), and it does not retry: a request that got no 202 (the ingest process was killed,
 * a backend was down) is counted by what it got, and its events are not acknowledged.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface LoadCustomer {
  index: number;
  apiKey: string;
  eventType: string;
}

export interface AckedEvent {
  id: string;
  customer: number;
  /** `Date.now()` when the 202 was read. */
  ackedAt: number;
}

export interface LoadResult {
  acked: AckedEvent[];
  /** Events in requests that got no 202, by what they got (`503`, `connection error`, ...). */
  notAcked: Record<string, number>;
  /** Events not sent because `maxInFlight` requests were already open. */
  notSent: number;
  requests: number;
  /** Real seconds the posting ran. */
  seconds: number;
}

export interface LoadOptions {
  /** Where ingest listens now (read at every request: a restarted process keeps its port). */
  ingestUrl: () => string;
  customers: readonly LoadCustomer[];
  rate: number;
  durationMs: number;
  batchSize: number;
  maxInFlight?: number;
  requestTimeoutMs?: number;
}

const TICK_MS = 50;

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { customers, rate, durationMs, batchSize } = options;
  const maxInFlight = options.maxInFlight ?? 256;
  const timeoutMs = options.requestTimeoutMs ?? 15_000;
  const result: LoadResult = { acked: [], notAcked: {}, notSent: 0, requests: 0, seconds: 0 };
  const notAcked = (why: string, events: number) => (result.notAcked[why] = (result.notAcked[why] ?? 0) + events);
  const open = new Set<Promise<void>>();
  let scheduled = 0;
  let sequence = 0;
  let next = 0;

  const send = async (customer: LoadCustomer, count: number): Promise<void> => {
    const events = Array.from({ length: count }, () => ({ payload: { event_type: customer.eventType, seq: sequence++ } }));
    result.requests++;
    try {
      const response = await fetch(`${options.ingestUrl()}/api/v1/events/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${customer.apiKey}` },
        body: JSON.stringify({ events }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      if (response.status !== 202) return void notAcked(String(response.status), count);
      const ackedAt = Date.now();
      for (const event of (JSON.parse(text) as { events: { event_id: string }[] }).events) result.acked.push({ id: event.event_id, customer: customer.index, ackedAt });
    } catch (error) {
      notAcked((error as Error).name === 'TimeoutError' ? 'timeout' : 'connection error', count);
    }
  };

  const started = Date.now();
  for (;;) {
    const elapsed = Math.min(Date.now() - started, durationMs);
    let due = Math.floor((rate * elapsed) / 1000) - scheduled;
    while (due > 0) {
      const count = Math.min(batchSize, due);
      due -= count;
      scheduled += count;
      if (open.size >= maxInFlight) {
        result.notSent += count;
        continue;
      }
      const customer = customers[next++ % customers.length];
      const request = send(customer, count).finally(() => open.delete(request));
      open.add(request);
    }
    if (elapsed >= durationMs) break;
    await sleep(TICK_MS);
  }
  await Promise.all(open);
  result.seconds = (Date.now() - started) / 1000;
  return result;
}
