import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './test-server.ts';
import { newCustomer, postEvents, receiverPool, subscribe, waitForEventStatus } from '@triggers/testkit';

/**
 * The embedded acceptor writes one `events` message per customer and group commit (a batch request
 * is always one): the matcher must match every event the message stands for, each on its own.
 */
describe('events accepted together share one queue message, and each is matched on its own', () => {
  let server: TestServer;
  const receivers = receiverPool();
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await receivers.closeAll();
    await server?.close();
  });

  it('a batch of matching and non-matching events: the matching ones delivered once each, the others unmatched', async () => {
    const { apiKey, eventType } = await newCustomer(server);
    const receiver = await receivers.start();
    await subscribe(server, apiKey, eventType, receiver.url());
    const payloads = Array.from({ length: 7 }, (_, i) => ({ event_type: i % 2 === 0 ? eventType : `${eventType}.other`, n: i }));
    const posted = await postEvents(server, apiKey, payloads);

    const delivered = await receiver.waitFor(4);
    const bodies = delivered.map((r) => JSON.parse(r.body) as { event_id: string; payload: { n: number } }[]);
    assert.deepEqual(bodies.map((b) => b[0].payload.n).sort(), [0, 2, 4, 6]);
    for (const [i, event] of posted.entries()) {
      await waitForEventStatus(server, apiKey, event.event_id, i % 2 === 0 ? 'delivered' : 'unmatched');
    }
    assert.equal(receiver.requests.length, 4, 'no duplicate webhook');
  });
});
