import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './test-server.ts';
import {
  DYNAMODB,
  POSTGRES,
  REDIS,
  assertProblem,
  createSubscription,
  prepareBackends,
  requireEngine,
  startWebhookReceiver,
  verifySignature,
  waitForEventStatus,
  type EngineRequirement,
  type PreparedBackends,
  type WebhookReceiver,
} from '@triggers/testkit';

/**
 * Issue 11 item 1: a payload comes back exactly as it was sent — in the 202's GET, the inbox, the
 * event stream and every webhook body (single, batched, replayed) — on each event store. Numbers
 * a double cannot hold (`12345678901234567890`, `-9007199254740993`, `1e999`) are never rounded or
 * turned into null; only whitespace between tokens is dropped (API.md allows it). The payloads are
 * sent as JSON text, since a JavaScript object cannot even hold them.
 */

const NESTED = `${'{"a":'.repeat(127)}{"deepest":12345678901234567890}${'}'.repeat(127)}`;

/** [what, the payload text sent, the text served]. */
const PROBES: [string, string, string][] = [
  ['an integer beyond 2^64', '{"n":12345678901234567890}', '{"n":12345678901234567890}'],
  ['a negative integer just beyond 2^53', '{"n":-9007199254740993}', '{"n":-9007199254740993}'],
  ['exponents beyond a double (both ways)', '{"big":1e999,"neg":-1E+400,"tiny":1e-400}', '{"big":1e999,"neg":-1E+400,"tiny":1e-400}'],
  ['-0, 1.0, trailing zeros and exponent spellings', '{"z":-0,"one":1.0,"f":0.10,"e":1.5e3,"E":2E-2}', '{"z":-0,"one":1.0,"f":0.10,"e":1.5e3,"E":2E-2}'],
  ['unicode escapes, a NUL, surrogate pairs and raw non-ASCII', '{"s":"\\u00e9\\ud83d\\ude00\\u0000\\"\\\\\\/","raw":"é😀 ✓"}', '{"s":"\\u00e9\\ud83d\\ude00\\u0000\\"\\\\\\/","raw":"é😀 ✓"}'],
  ['duplicate keys, in order', '{"k":1,"k":12345678901234567890}', '{"k":1,"k":12345678901234567890}'],
  ['a __proto__ key', '{"__proto__":{"admin":true},"b":[]}', '{"__proto__":{"admin":true},"b":[]}'],
  ['whitespace between tokens (dropped), inside strings (kept)', '{ "a" :\n [ 1 ,\t2 ] ,\r\n "s" : " x  y " }', '{"a":[1,2],"s":" x  y "}'],
  ['nesting at the limit (128 levels)', NESTED, NESTED],
];

/** `{"event_type": ..., <the probe's members>}` as text: the probe's own spelling kept. */
function withType(eventType: string, payload: string): string {
  const inner = payload.trim().slice(1);
  return `{"event_type":${JSON.stringify(eventType)}${inner.trim().startsWith('}') ? '' : ','}${inner}`;
}

function postText(server: TestServer, apiKey: string, path: string, body: string) {
  return server.request('POST', path, { apiKey, body, headers: { 'content-type': 'application/json' } });
}

const STORES: { name: string; engine?: EngineRequirement; choice?: (address: string) => Parameters<typeof prepareBackends>[1]; eventStore?: 'postgres' | 'dynamodb' }[] = [
  { name: 'SQLite' },
  { name: 'PostgreSQL', engine: POSTGRES, eventStore: 'postgres', choice: (address) => ({ postgresUrl: address }) },
  { name: 'DynamoDB', engine: DYNAMODB, eventStore: 'dynamodb', choice: (address) => ({ dynamodbEndpoint: address }) },
];

for (const store of STORES) {
  describe(`exact payloads on the ${store.name} event store`, function () {
    this.timeout(120_000);
    const engine = store.engine ? requireEngine(store.engine) : undefined;
    // A shared event store needs the shared cache (config.ts refuses the memory cache with it).
    const redis = store.engine ? requireEngine(REDIS) : undefined;
    let server: TestServer;
    let prepared: PreparedBackends | undefined;
    const receivers: WebhookReceiver[] = [];

    before(async () => {
      if (engine && redis && store.eventStore && store.choice) {
        prepared = await prepareBackends(
          { eventStore: store.eventStore, metadataStore: 'sqlite', queue: 'sqlite', cache: 'redis' },
          { ...store.choice(engine.address), redisUrl: redis.address },
          'payload',
        );
      }
      server = await startTestServer({ ...(prepared?.env ?? {}), TRIGGERS_RETRY_BASE_MS: '100' });
    });
    afterEach(async () => {
      await Promise.all(receivers.splice(0).map((r) => r.close()));
    });
    after(async () => {
      await server?.close();
      await prepared?.cleanup();
    });

    // Polled gently, with room for a loaded machine: quick pollers slow the DynamoDB emulator down more than the pipeline.
    const settled = (apiKey: string, eventId: string, status: 'delivered' | 'unmatched') =>
      waitForEventStatus(server, apiKey, eventId, status, { timeoutMs: 30_000, intervalMs: 100 });
    const receiver = async () => {
      const started = await startWebhookReceiver();
      receivers.push(started);
      return started;
    };

    it('one event at a time: the GET, the inbox, the stream and the signed webhook body carry each payload as sent', async () => {
      const { apiKey } = await server.createCustomer();
      const hook = await receiver();
      const subscription = await createSubscription(server, apiKey, { event_selector: { type: 'event_type', value: 'probe.*' }, webhook_url: hook.url() });
      const stream = await openStream(server, apiKey);
      try {
        const sent: { eventId: string; served: string }[] = [];
        for (const [what, payload, served] of PROBES) {
          const response = await postText(server, apiKey, '/api/v1/events', `{"payload": ${withType('probe.single', payload)}}`);
          assert.equal(response.status, 202, `${what}: ${response.text}`);
          sent.push({ eventId: response.body.event_id, served: withType('probe.single', served) });
        }
        const inbox = await server.request('GET', '/api/v1/inbox?limit=100', { apiKey });
        for (const [i, { eventId, served }] of sent.entries()) {
          const what = PROBES[i][0];
          const event = await settled(apiKey, eventId, 'delivered');
          assert.equal(event.status, 'delivered', what);
          const read = await server.request('GET', `/api/v1/events/${eventId}`, { apiKey });
          assert.ok(read.text.includes(`"payload":${served},`), `${what}: GET gave ${read.text.slice(0, 300)}`);
          assert.ok(inbox.text.includes(`"event_id":"${eventId}","customer_id":"${event.customer_id}","payload":${served},`), `${what}: inbox`);
        }
        const requests = await hook.waitFor(sent.length, 20_000);
        for (const [i, { eventId, served }] of sent.entries()) {
          const request = requests.find((r) => r.body.includes(eventId));
          assert.ok(request, `a webhook for ${PROBES[i][0]}`);
          assert.ok(request.body.includes(`"payload":${served},`), `${PROBES[i][0]}: webhook body ${request.body.slice(0, 300)}`);
          verifySignature(request, subscription.secret);
        }
        const streamed = await stream.waitFor((text) => sent.every(({ eventId }) => text.includes(`id: ${eventId}`)));
        for (const [i, { served }] of sent.entries()) assert.ok(streamed.includes(`"payload":${served},`), `${PROBES[i][0]}: stream`);
      } finally {
        await stream.close();
      }
    });

    it('a batch, a batching subscription and a replay carry each payload as sent', async () => {
      const { apiKey } = await server.createCustomer();
      const hook = await receiver();
      await createSubscription(server, apiKey, {
        event_selector: { type: 'event_type', value: 'probe.batch' },
        webhook_url: hook.url(),
        batch: { max_events: PROBES.length, window_ms: 500 },
      });
      const body = `{"events": [${PROBES.map(([, payload]) => `{"payload": ${withType('probe.batch', payload)}}`).join(',\n')}]}`;
      const response = await postText(server, apiKey, '/api/v1/events/batch', body);
      assert.equal(response.status, 202, response.text);
      const ids: string[] = response.body.events.map((e: { event_id: string }) => e.event_id);
      const served = PROBES.map(([, , text]) => withType('probe.batch', text));

      const deliveries = await hook.waitFor(1, 20_000);
      const delivered = async (count: number) => {
        for (const id of ids) await settled(apiKey, id, 'delivered');
        return (await hook.waitFor(count, 20_000)).map((r) => r.body).join('\n');
      };
      const firstBodies = await delivered(deliveries.length);
      for (const [i, id] of ids.entries()) {
        assert.ok(firstBodies.includes(`{"event_id":"${id}","customer_id":`), `${PROBES[i][0]}: delivered`);
        assert.ok(firstBodies.includes(`"payload":${served[i]},`), `${PROBES[i][0]}: batched webhook body`);
        const read = await server.request('GET', `/api/v1/events/${id}`, { apiKey });
        assert.ok(read.text.includes(`"payload":${served[i]},`), `${PROBES[i][0]}: GET after a batch`);
      }
      assert.ok(hook.requests.some((r) => (JSON.parse(r.body) as unknown[]).length > 1), 'at least one webhook call carried several events');

      const before = hook.requests.length;
      const replay = await server.request('POST', `/api/v1/events/${ids[0]}/replay`, { apiKey });
      assert.equal(replay.status, 202, replay.text);
      const [replayed] = (await hook.waitFor(before + 1, 20_000)).slice(before);
      assert.ok(replayed.body.includes(`"payload":${served[0]},`), `replayed webhook body ${replayed.body.slice(0, 200)}`);
    });

    it('the matcher compares numbers beyond a double exactly against the stored text', async () => {
      const { apiKey } = await server.createCustomer();
      const hook = await receiver();
      await createSubscription(server, apiKey, {
        event_selector: { type: 'jsonpath', expression: "$.event_type == 'probe.big' && $.n > 12345678901234567000" },
        webhook_url: hook.url(),
      });
      const above = await postText(server, apiKey, '/api/v1/events', '{"payload":{"event_type":"probe.big","n":12345678901234567890}}');
      const rounded = await postText(server, apiKey, '/api/v1/events', '{"payload":{"event_type":"probe.big","n":12345678901234567000}}');
      assert.equal((await settled(apiKey, above.body.event_id, 'delivered')).status, 'delivered');
      assert.equal((await settled(apiKey, rounded.body.event_id, 'unmatched')).status, 'unmatched');
    });

    it('a body that is not valid UTF-8 is 400 invalid_json and stores nothing', async () => {
      const { apiKey } = await server.createCustomer();
      const bodies = [
        Buffer.concat([Buffer.from('{"payload":{"s":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')]),
        Buffer.concat([Buffer.from('{"payload":{"s":"'), Buffer.from([0xc3]), Buffer.from('"}}')]), // a truncated two-byte sequence
        Buffer.concat([Buffer.from('{"payload":{"s":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}}')]), // an encoded surrogate
        Buffer.concat([Buffer.from('{"events":[{"payload":{"s":"'), Buffer.from([0x80]), Buffer.from('"}}]}')]),
      ];
      for (const [i, body] of bodies.entries()) {
        const path = i === bodies.length - 1 ? '/api/v1/events/batch' : '/api/v1/events';
        const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body });
        const text = await response.text();
        assertProblem({ status: response.status, headers: response.headers, text, body: JSON.parse(text) }, 400, 'invalid_json');
        assert.match(JSON.parse(text).detail, /UTF-8/);
      }
      const inbox = await server.request('GET', '/api/v1/inbox', { apiKey });
      assert.deepEqual(inbox.body.events, []);
    });
  });
}

interface OpenStream {
  waitFor(done: (text: string) => boolean, timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

/** Reads `/api/v1/events/stream` as text until told to stop. */
async function openStream(server: TestServer, apiKey: string): Promise<OpenStream> {
  const controller = new AbortController();
  const response = await fetch(`${server.url}/api/v1/events/stream`, { headers: { authorization: `Bearer ${apiKey}`, accept: 'text/event-stream' }, signal: controller.signal });
  assert.equal(response.status, 200);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  const reading = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += value;
      }
    } catch {
      // aborted
    }
  })();
  return {
    async waitFor(done, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!done(text)) {
        if (Date.now() > deadline) throw new Error(`the stream did not carry what was expected; it read ${text.slice(0, 500)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return text;
    },
    async close() {
      controller.abort();
      await reading;
    },
  };
}
