import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig, createServiceContext, type ServiceContext } from '@triggers/core/runtime';
import { makeTempDataDir } from '@triggers/core/testing';
import type { DeliveryMessage } from '@triggers/core/ports';
import { sleep } from '@triggers/testkit';
import { startDeliverer, type RunningDeliverer } from './index.ts';
import { createPendingDelivery } from './pending-delivery.test-support.ts';

/**
 * A deliverer that dies after claiming attempt N (compare-and-set on attemptsMade) and before
 * recording its outcome leaves the delivery pending with attemptsMade = N; its queue message, never
 * acked, comes back after the visibility timeout. That message must make attempt N + 1 once the
 * claim's lease has passed, not be dropped as a duplicate (which stranded the delivery until the
 * sweeper's grace time: 5 minutes by default). Found by services/all-in-one/src/crash-safety.test.ts.
 */
describe('deliverer: a redelivered message whose attempt was claimed by a dead handler', () => {
  let dataDir: string;
  let ctx: ServiceContext;
  let deliverer: RunningDeliverer;
  let receiver: http.Server;
  let hookUrl: string;
  const received: { webhookId: string; at: number }[] = [];

  before(async () => {
    dataDir = makeTempDataDir();
    ctx = await createServiceContext(
      loadConfig({ TRIGGERS_DATA_DIR: dataDir, TRIGGERS_LOG_LEVEL: 'silent', TRIGGERS_SQLITE_SYNCHRONOUS: 'normal' }),
      { service: 'claim-lease-test' },
    );
    deliverer = startDeliverer(ctx);
    receiver = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received.push({ webhookId: String(req.headers['webhook-id']), at: Date.now() });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
    hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });

  after(async () => {
    await deliverer?.stop();
    await ctx?.backends.close();
    if (receiver) await new Promise<void>((resolve) => receiver.close(() => resolve()));
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** An event with one delivery whose attempt 1 was claimed with a lease until `claimUntil`, and the redelivered attempt-1 message. */
  async function claimedThenRedelivered(claimUntil: number): Promise<{ deliveryId: string; customerId: string; eventId: string }> {
    const message = await createPendingDelivery(ctx, hookUrl, 'lease.test');
    const { deliveryId, customerId, eventId, workflowId } = message;
    assert.equal(await ctx.backends.deliveryStore.incrementAttempts(deliveryId, 0, Date.now(), claimUntil), true);
    await ctx.backends.queue.send('deliveries', { body: message, key: workflowId });
    return { deliveryId, customerId, eventId };
  }

  async function waitDelivered(customerId: string, eventId: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while ((await ctx.backends.eventStore.getEvent(customerId, eventId))?.status !== 'delivered') {
      if (Date.now() > deadline) assert.fail(`event ${eventId} was not delivered`);
      await sleep(20);
    }
  }

  it('makes the next attempt at once when the lease has passed', async () => {
    const { deliveryId, customerId, eventId } = await claimedThenRedelivered(Date.now() - 1000);
    await waitDelivered(customerId, eventId);
    assert.deepEqual(received.filter((r) => r.webhookId === deliveryId).length, 1);
    const attempts = await ctx.backends.eventStore.listAttempts(customerId, eventId);
    assert.deepEqual(attempts.map((a) => [a.attempt, a.status]), [[2, 'succeeded']]);
  });

  it('waits for the lease while the claimer may still be sending, then makes the next attempt', async () => {
    const leaseMs = 700;
    const claimUntil = Date.now() + leaseMs;
    const { deliveryId, customerId, eventId } = await claimedThenRedelivered(claimUntil);
    await sleep(leaseMs / 2);
    assert.equal(received.filter((r) => r.webhookId === deliveryId).length, 0, 'nothing sent while the claim holds');
    await waitDelivered(customerId, eventId);
    const sent = received.filter((r) => r.webhookId === deliveryId);
    assert.equal(sent.length, 1);
    assert.ok(sent[0].at >= claimUntil - 10, 'sent once the lease had passed');
  });

  it('still drops a duplicate of an attempt whose successor was already made', async () => {
    const { deliveryId, customerId, eventId } = await claimedThenRedelivered(Date.now() - 1000);
    await waitDelivered(customerId, eventId);
    const delivery = await ctx.backends.deliveryStore.getDelivery(deliveryId);
    assert.equal(delivery?.attemptsMade, 2);
    // A late duplicate of attempt 1, after attempt 2 was made and succeeded: nothing is sent.
    await ctx.backends.queue.send('deliveries', { body: { deliveryId, eventId, customerId, workflowId: delivery!.workflowId, attempt: 1 } satisfies DeliveryMessage });
    await sleep(300);
    assert.equal(received.filter((r) => r.webhookId === deliveryId).length, 1);
  });
});
