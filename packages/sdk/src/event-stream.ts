import type { StreamedEvent, StreamQuery, EventSelector } from './api.gen.ts';
import { problemError, type Transport } from './transport.ts';
import { sleep } from './retry.ts';

export interface StreamOptions extends Omit<StreamQuery, 'selector'> {
  /** Only the events this selector matches (as in subscriptions). */
  selector?: EventSelector;
  /** Resume right after this event id (otherwise: events accepted from now on). */
  lastEventId?: string;
  /** Stops the stream; the iterator then ends. */
  signal?: AbortSignal;
  /** Called each time the stream is (re)connected, with the position it resumed from. */
  onOpen?: (info: { lastEventId: string | null; reconnect: boolean }) => void;
  /** Called when the connection drops or the server cut the stream (overflow); it reconnects. */
  onDisconnect?: (info: { reason: string }) => void;
}

/**
 * The customer's events as they are accepted, from `GET /api/v1/events/stream` (Server-Sent
 * Events read with fetch, so it works in Node and browsers and can send the API key). It
 * reconnects by itself with `Last-Event-ID`, so across a dropped connection (or an `overflow` cut
 * after the consumer was too slow) nothing is missed and nothing repeated. A problem answer before
 * the stream starts (401, 400, 429 too many streams) throws `TriggersError`, except 429/503, which
 * are waited out and retried.
 */
export async function* streamEvents(transport: Transport, options: StreamOptions = {}): AsyncGenerator<StreamedEvent> {
  let lastEventId: string | null = options.lastEventId ?? null;
  let retryMs = 1000;
  let reconnect = false;
  const query = {
    event_type: options.event_type,
    status: options.status,
    selector: options.selector === undefined ? undefined : JSON.stringify(options.selector),
  };
  while (!options.signal?.aborted) {
    let response: Response;
    try {
      response = await transport.fetch(transport.url('/api/v1/events/stream', query), {
        headers: transport.headers({ accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) }),
        signal: options.signal,
      });
    } catch (error) {
      if (options.signal?.aborted) return;
      options.onDisconnect?.({ reason: `connect failed: ${(error as Error).message}` });
      await sleepUnlessAborted(retryMs, options.signal);
      reconnect = true;
      continue;
    }
    if (!response.ok) {
      const error = await problemError(response);
      if (response.status !== 429 && response.status !== 503 && response.status < 500) throw error;
      options.onDisconnect?.({ reason: error.message });
      await sleepUnlessAborted(Math.max(retryMs, (error.retryAfterSeconds ?? 0) * 1000), options.signal);
      reconnect = true;
      continue;
    }
    options.onOpen?.({ lastEventId, reconnect });
    let reason = 'the server closed the stream';
    try {
      for await (const message of readServerSentEvents(response.body!)) {
        if (message.retry !== undefined) retryMs = message.retry;
        // Every id counts, also the data-less first one naming where the stream started.
        if (message.id !== undefined && message.id !== '') lastEventId = message.id;
        if (message.event === 'overflow') {
          reason = 'the server cut the stream off (the consumer was too slow)';
          continue;
        }
        if (message.event !== 'event' || message.data === undefined) continue;
        const event = JSON.parse(message.data) as StreamedEvent;
        lastEventId = message.id || event.event_id;
        yield event;
      }
    } catch (error) {
      if (options.signal?.aborted) return;
      reason = `connection lost: ${(error as Error).message}`;
    }
    if (options.signal?.aborted) return;
    options.onDisconnect?.({ reason });
    await sleepUnlessAborted(retryMs, options.signal);
    reconnect = true;
  }
}

async function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<void> {
  await sleep(ms, signal).catch(() => undefined);
}

export interface ServerSentEvent {
  id?: string;
  event: string;
  data?: string;
  retry?: number;
}

/** Parses a `text/event-stream` body (the WHATWG rules: fields, comments, multi-line data). */
export async function* readServerSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let current: { id?: string; event?: string; data: string[]; retry?: number } = { data: [] };
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = buffer.search(/\r\n|\r|\n/)) !== -1) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
        if (line === '') {
          if (current.data.length > 0 || current.retry !== undefined || current.id !== undefined) {
            yield { id: current.id, event: current.event ?? 'message', data: current.data.length ? current.data.join('\n') : undefined, retry: current.retry };
          }
          current = { data: [] };
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') current.data.push(value);
        else if (field === 'event') current.event = value;
        else if (field === 'id') current.id = value;
        else if (field === 'retry' && /^\d+$/.test(value)) current.retry = Number(value);
      }
    }
  } finally {
    reader.releaseLock();
    await body.cancel().catch(() => undefined);
  }
}

