import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '@triggers/all-in-one/test-server';

/** The console's live inbox: `/demo/events/stream` relays the demo customer's public event stream. */
describe('GET /demo/events/stream', function () {
  this.timeout(30_000);
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ TRIGGERS_DEMO: '1' });
  });
  after(async () => {
    await server?.close();
  });

  it("streams the demo customer's new events as Server-Sent Events, with their ids", async () => {
    const controller = new AbortController();
    const response = await fetch(`${server.url}/demo/events/stream`, { signal: controller.signal });
    try {
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
      const reader = response.body!.getReader();
      const trigger = await server.request('POST', '/demo/trigger', { json: { document_type: 'contract', priority: 'high', description: 'stream test', customer_email: 'a@example.test' } });
      assert.equal(trigger.status, 200, trigger.text);
      const eventId = trigger.body.event_id as string;
      let text = '';
      const deadline = Date.now() + 5000;
      while (!text.includes(`id: ${eventId}`) && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      assert.ok(text.includes(`id: ${eventId}\nevent: event\ndata: {"event_id":"${eventId}"`), text.slice(0, 500));
    } finally {
      controller.abort();
    }
  });

  it('relays a problem before the stream starts', async () => {
    const response = await fetch(`${server.url}/demo/events/stream?selector=%7B`);
    assert.equal(response.status, 400);
    assert.equal((await response.json()).code, 'invalid_selector');
  });
});
