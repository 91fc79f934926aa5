import assert from 'node:assert/strict';
import http from 'node:http';
import { startTestServer, type TestServer } from '@triggers/all-in-one/test-server';
import { DYNAMODB, POSTGRES, REDIS, assertProblem, prepareBackends, requireEngine, type PreparedBackends } from '@triggers/testkit';
import type { TestResponse } from '@triggers/core/testing';

/**
 * `GET /api/v1/events/stream` on a real all-in-one, read as raw Server-Sent Events: resume with
 * Last-Event-ID without gap or repeat, filters and selectors, problems before the stream starts,
 * heartbeats, the per-customer limit, and a slow client cut off with `event: overflow`.
 */

interface Message {
  id?: string;
  event?: string;
  data?: string;
}

/** An open stream: its parsed messages and comment lines so far, and a way to close it. */
interface OpenStream {
  status: number;
  messages: Message[];
  comments: string[];
  ended: Promise<void>;
  response: http.IncomingMessage;
  close(): void;
}

function openStream(server: TestServer, apiKey: string, options: { query?: string; lastEventId?: string } = {}): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      `${server.url}/api/v1/events/stream${options.query ? `?${options.query}` : ''}`,
      { headers: { authorization: `Bearer ${apiKey}`, accept: 'text/event-stream', ...(options.lastEventId ? { 'last-event-id': options.lastEventId } : {}) } },
      (response) => {
        const messages: Message[] = [];
        const comments: string[] = [];
        let buffer = '';
        response.setEncoding('utf8');
        const ended = new Promise<void>((done) => {
          response.on('end', done);
          response.on('close', done);
          response.on('error', () => done());
        });
        response.on('data', (chunk: string) => {
          buffer += chunk;
          let cut: number;
          while ((cut = buffer.indexOf('\n\n')) !== -1) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const message: Message = {};
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) comments.push(line.slice(1).trim());
              else if (line.startsWith('id: ')) message.id = line.slice(4);
              else if (line.startsWith('event: ')) message.event = line.slice(7);
              else if (line.startsWith('data: ')) message.data = line.slice(6);
            }
            if (message.event) messages.push(message);
          }
        });
        resolve({ status: response.statusCode ?? 0, messages, comments, ended, response, close: () => req.destroy() });
      },
    );
    req.on('error', reject);
  });
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function send(server: TestServer, apiKey: string, payload: Record<string, unknown>): Promise<string> {
  const response = await server.request('POST', '/api/v1/events', { apiKey, json: { payload } });
  assert.equal(response.status, 202, response.text);
  return response.body.event_id;
}

/** A list for the streams a test opens: after each test, each is closed and has ended. */
function streamsClosedAfterEach(): OpenStream[] {
  const open: OpenStream[] = [];
  afterEach(async () => {
    for (const stream of open.splice(0)) {
      stream.close();
      await stream.ended;
    }
  });
  return open;
}

const events = (stream: OpenStream) => stream.messages.filter((m) => m.event === 'event');

describe('GET /api/v1/events/stream', function () {
  this.timeout(60_000);
  let server: TestServer;
  const open = streamsClosedAfterEach();

  before(async () => {
    server = await startTestServer({ TRIGGERS_STREAM_MAX_PER_CUSTOMER: '2', TRIGGERS_STREAM_HEARTBEAT_MS: '1000', TRIGGERS_STREAM_SLOW_CLIENT_MS: '400' });
  });
  after(async () => {
    await server?.close();
  });

  const stream = async (apiKey: string, options: { query?: string; lastEventId?: string } = {}) => {
    const s = await openStream(server, apiKey, options);
    open.push(s);
    return s;
  };

  it('streams events accepted after the connection, oldest first, as the inbox shows them', async () => {
    const { apiKey } = await server.createCustomer();
    await send(server, apiKey, { before: true });
    const s = await stream(apiKey);
    assert.equal(s.status, 200);
    assert.match(String(s.response.headers['content-type']), /^text\/event-stream/);
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await send(server, apiKey, { event_type: 'order.created', i }));
    await waitFor(() => events(s).length >= 5, 'five events');
    assert.deepEqual(events(s).map((m) => m.id), ids);
    const first = JSON.parse(events(s)[0].data!);
    assert.equal(first.event_id, ids[0]);
    assert.deepEqual(first.payload, { event_type: 'order.created', i: 0 });
    for (const key of ['customer_id', 'status', 'timestamp', 'delivery_attempts', 'last_delivery_timestamp']) assert.ok(key in first, key);
  });

  it('resumes after a forced disconnect with Last-Event-ID: no gap, no duplicate', async () => {
    const { apiKey } = await server.createCustomer();
    const first = await stream(apiKey);
    const sent: string[] = [];
    let sending = true;
    const sender = (async () => {
      while (sending) {
        sent.push(await send(server, apiKey, { n: sent.length }));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    await waitFor(() => events(first).length >= 10, 'ten events before the cut');
    first.close(); // the connection drops while events keep arriving
    await first.ended;
    const last = events(first).at(-1)!.id!;
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = await stream(apiKey, { lastEventId: last });
    await new Promise((resolve) => setTimeout(resolve, 500));
    sending = false;
    await sender;
    await waitFor(() => events(second).at(-1)?.id === sent.at(-1), 'the last event sent');
    const received = [...events(first), ...events(second)].map((m) => m.id);
    assert.equal(new Set(received).size, received.length, 'no event twice');
    assert.deepEqual(received, sent, 'every event, in order');
    assert.ok(events(second).length >= 10, `${events(second).length} events after the reconnect`);
  });

  it('with Last-Event-ID of an older event replays what followed it, then continues live', async () => {
    const { apiKey } = await server.createCustomer();
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(await send(server, apiKey, { i }));
    const s = await stream(apiKey, { lastEventId: ids[0] });
    const live = await send(server, apiKey, { live: true });
    await waitFor(() => events(s).length >= 4, 'the backlog and the live event');
    assert.deepEqual(events(s).map((m) => m.id), [...ids.slice(1), live]);
  });

  it('filters by event_type and by a selector', async () => {
    const { apiKey } = await server.createCustomer();
    const byType = await stream(apiKey, { query: 'event_type=order.created' });
    const selector = encodeURIComponent(JSON.stringify({ type: 'jsonpath', expression: '$.amount > 100' }));
    const bySelector = await stream(apiKey, { query: `selector=${selector}` });
    const order = await send(server, apiKey, { event_type: 'order.created', amount: 5 });
    const big = await send(server, apiKey, { event_type: 'invoice.paid', amount: 500 });
    await send(server, apiKey, { event_type: 'other', amount: 1 });
    const marker = await send(server, apiKey, { event_type: 'order.created', amount: 101 });
    await waitFor(() => events(byType).length >= 2 && events(bySelector).length >= 2, 'both filtered streams');
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.deepEqual(events(byType).map((m) => m.id), [order, marker]);
    assert.deepEqual(events(bySelector).map((m) => m.id), [big, marker]);
  });

  it('answers problems before the stream starts: bad selector, bad Last-Event-ID, unknown parameter, no key', async () => {
    const { apiKey } = await server.createCustomer();
    const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${apiKey}`, ...headers } });
    await assertProblem(await toRaw(await get(`/api/v1/events/stream?selector=${encodeURIComponent('{"type":"nope"}')}`)), 400, 'invalid_selector');
    await assertProblem(await toRaw(await get('/api/v1/events/stream?selector=%7B')), 400, 'invalid_selector');
    await assertProblem(await toRaw(await get('/api/v1/events/stream', { 'last-event-id': 'not-an-id' })), 400, 'invalid_request');
    await assertProblem(await toRaw(await get('/api/v1/events/stream?colour=red')), 400, 'invalid_request');
    await assertProblem(await toRaw(await fetch(`${server.url}/api/v1/events/stream`)), 401, 'unauthorized');
  });

  it('sends a ping comment at the heartbeat interval', async () => {
    const { apiKey } = await server.createCustomer();
    const s = await stream(apiKey);
    await new Promise((resolve) => setTimeout(resolve, 2300));
    assert.ok(s.comments.filter((c) => c === 'ping').length >= 2, `comments: ${JSON.stringify(s.comments)}`);
  });

  it('refuses a stream beyond the per-customer limit with a 429 problem, and frees the slot on close', async () => {
    const { apiKey } = await server.createCustomer();
    const a = await stream(apiKey);
    await stream(apiKey);
    const third = await fetch(`${server.url}/api/v1/events/stream`, { headers: { authorization: `Bearer ${apiKey}` } });
    await assertProblem(await toRaw(third), 429, 'rate_limited');
    assert.ok(third.headers.get('retry-after'));
    const other = await server.createCustomer();
    assert.equal((await stream(other.apiKey)).status, 200, 'another customer is not affected');
    a.close();
    await a.ended;
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal((await stream(apiKey)).status, 200, 'the freed slot');
  });

  it('cuts a client that stops reading off with event: overflow instead of buffering without bound', async () => {
    const { apiKey } = await server.createCustomer();
    const s = await stream(apiKey);
    s.response.pause(); // reads nothing from now on
    const big = 'x'.repeat(200_000);
    const sent: string[] = [];
    for (let i = 0; i < 60; i++) sent.push(await send(server, apiKey, { i, big }));
    // 12 MB sent: more than the socket buffers hold, so the server's writes back up and it gives up.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    s.response.resume();
    await s.ended;
    const last = s.messages.at(-1);
    assert.equal(last?.event, 'overflow', `last message: ${JSON.stringify(last).slice(0, 200)}`);
    const overflow = JSON.parse(last!.data!);
    assert.equal(overflow.code, 'overflow');
    const delivered = events(s).length;
    assert.ok(delivered < sent.length, `${delivered} of ${sent.length} events before the cut`);
    assert.equal(overflow.last_event_id, events(s).at(-1)!.id, 'the overflow names the last event written');
    // The freed slot: the stream is gone on the server too.
    const again = await stream(apiKey, { lastEventId: overflow.last_event_id });
    await waitFor(() => events(again).length === sent.length - delivered, 'the rest after resuming', 15_000);
  });
});

async function toRaw(response: Response): Promise<TestResponse> {
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: text ? JSON.parse(text) : undefined } as TestResponse;
}

/**
 * The stream reads through the event store's inbox query only, so it works on every store; these
 * run its resume and backlog paths on PostgreSQL and DynamoDB (skipped, with a line, without them).
 */
for (const backend of [
  { eventStore: 'postgres' as const, engine: POSTGRES, engines: (address: string) => ({ postgresUrl: address }) },
  { eventStore: 'dynamodb' as const, engine: DYNAMODB, engines: (address: string) => ({ dynamodbEndpoint: address }) },
]) {
  describe(`GET /api/v1/events/stream on the ${backend.eventStore} event store`, function () {
    this.timeout(60_000);
    const engine = requireEngine(backend.engine);
    // A shared event store needs the shared cache (config.ts refuses the memory cache with it).
    const redis = requireEngine(REDIS);
    let server: TestServer;
    let prepared: PreparedBackends;
    const open = streamsClosedAfterEach();

    before(async () => {
      prepared = await prepareBackends(
        { eventStore: backend.eventStore, metadataStore: 'sqlite', queue: 'sqlite', cache: 'redis' },
        { ...backend.engines(engine.address), redisUrl: redis.address },
        'stream',
      );
      server = await startTestServer(prepared.env);
    });
    after(async () => {
      await server?.close();
      await prepared?.cleanup();
    });

    it('resumes after a disconnect with Last-Event-ID without gap or duplicate, across a backlog larger than one read', async () => {
      const { apiKey } = await server.createCustomer();
      const first = await openStream(server, apiKey);
      open.push(first);
      const sent: string[] = [];
      for (let i = 0; i < 5; i++) sent.push(await send(server, apiKey, { i }));
      await waitFor(() => events(first).length >= 5, 'the first five', 10_000);
      first.close();
      await first.ended;
      // While disconnected: more than one read's worth (100), in batches.
      for (let b = 0; b < 3; b++) {
        const batch = await server.request('POST', '/api/v1/events/batch', { apiKey, json: { events: Array.from({ length: 80 }, (_, i) => ({ payload: { b, i } })) } });
        assert.equal(batch.status, 202, batch.text);
        sent.push(...batch.body.events.map((e: { event_id: string }) => e.event_id));
      }
      const second = await openStream(server, apiKey, { lastEventId: events(first).at(-1)!.id });
      open.push(second);
      sent.push(await send(server, apiKey, { live: true }));
      await waitFor(() => events(second).at(-1)?.id === sent.at(-1), 'the live event after the backlog', 15_000);
      assert.deepEqual([...events(first), ...events(second)].map((m) => m.id), sent);
    });
  });
}
