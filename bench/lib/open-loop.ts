/**
 * An open-loop load generator: requests are sent on a fixed schedule (request i is due at
 * start + i / rate), whether or not earlier ones have been answered — unlike `runLoad`, whose
 * loops wait for each response, so a slow server would slow the offered load down with it.
 *
 * A 1 ms timer sends whatever is due; undici's Pool queues a request when every connection is
 * busy (the request then still counts from its due time). Times are wall-clock milliseconds with
 * sub-millisecond precision (`preciseWallMs`, kept on Date.now()), comparable with another
 * process's on the same machine (see bench/receiver.ts).
 */
import { preciseWallMs } from '@triggers/core/domain';
import { Pool, type Dispatcher } from 'undici';
import type { RequestSpec } from './load.ts';

export const wallNow = preciseWallMs;

export interface OpenLoopOptions {
  origin: string;
  connections: number;
  ratePerSecond: number;
  /** Requests sent in all (warm-up included). */
  total: number;
  request: (index: number) => RequestSpec;
  expectStatus: number;
  /** Called with the parsed JSON body of each expected response and the time it was read. */
  onAccepted: (index: number, body: unknown, acceptedAt: number) => void;
  signal?: AbortSignal;
}

export interface OpenLoopResult {
  /** When request 0 was due (wall ms). */
  startedAt: number;
  /** When the last request was handed to undici / the last response was read (wall ms). */
  lastSentAt: number;
  lastAnsweredAt: number;
  issued: number;
  accepted: number;
  errors: number;
  errorSamples: string[];
  /** Per request: when it was due, handed to undici and answered (NaN when it failed). */
  dueAt: Float64Array;
  sentAt: Float64Array;
  answeredAt: Float64Array;
}

const REQUEST_TIMEOUT_MS = 30_000;

export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const pool = new Pool(options.origin, {
    connections: options.connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: REQUEST_TIMEOUT_MS,
    bodyTimeout: REQUEST_TIMEOUT_MS,
  });
  const { total, ratePerSecond } = options;
  const dueAt = new Float64Array(total).fill(NaN);
  const sentAt = new Float64Array(total).fill(NaN);
  const answeredAt = new Float64Array(total).fill(NaN);
  const errorSamples = new Map<string, number>();
  let errors = 0;
  let accepted = 0;
  let issued = 0;
  let lastAnsweredAt = NaN;
  const inFlight = new Set<Promise<void>>();
  const noteError = (text: string) => {
    errors++;
    const key = text.slice(0, 300);
    if (errorSamples.size < 5 || errorSamples.has(key)) errorSamples.set(key, (errorSamples.get(key) ?? 0) + 1);
  };

  const send = async (i: number) => {
    const spec = options.request(i);
    sentAt[i] = wallNow();
    try {
      const response = await pool.request({ method: spec.method as Dispatcher.HttpMethod, path: spec.path, headers: spec.headers, body: spec.body });
      const text = await response.body.text();
      const at = wallNow();
      if (response.statusCode === options.expectStatus) {
        answeredAt[i] = at;
        lastAnsweredAt = at;
        accepted++;
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        options.onAccepted(i, body, at);
      } else {
        noteError(`status ${response.statusCode}: ${text.slice(0, 200)}`);
      }
    } catch (error) {
      noteError(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    }
  };

  const startedAt = wallNow();
  const intervalMs = 1000 / ratePerSecond;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const elapsed = wallNow() - startedAt;
      const due = Math.min(total, Math.floor(elapsed / intervalMs) + 1);
      while (issued < due && !options.signal?.aborted) {
        const i = issued++;
        dueAt[i] = startedAt + i * intervalMs;
        const p = send(i).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      if (issued >= total || options.signal?.aborted) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  const lastSentAt = issued > 0 ? sentAt[issued - 1] : startedAt;
  await Promise.allSettled([...inFlight]);
  await pool.close().catch(() => pool.destroy());
  return {
    startedAt,
    lastSentAt,
    lastAnsweredAt,
    issued,
    accepted,
    errors,
    errorSamples: [...errorSamples].map(([text, count]) => `${count}× ${text}`),
    dueAt,
    sentAt,
    answeredAt,
  };
}
