import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Writable } from 'node:stream';
import { createLogger, loadConfig, createServiceContext, type ServiceContext } from '@triggers/core/runtime';
import { makeTempDataDir } from '@triggers/core/testing';
import { receiverPool, sleep, type WebhookReceiver } from '@triggers/testkit';
import { startDeliverer, type RunningDeliverer } from './index.ts';
import { createPendingDelivery } from './pending-delivery.test-support.ts';

const RESET_MS = 500;

/**
 * Issue 10 item 5: the half-open probe of an origin's circuit is a delivery whose attempt another
 * deliverer claimed first (compare-and-set on attemptsMade). It sent nothing, so it must not close
 * the circuit: the next real request is the probe. The deliverer runs on real SQLite stores; the
 * rival's claim is a real `incrementAttempts` made just before the probe's own.
 */
describe('deliverer: a half-open probe that lost the attempt claim', () => {
  let dataDir: string;
  let ctx: ServiceContext;
  let deliverer: RunningDeliverer | undefined;
  const receivers = receiverPool();
  let receiver: WebhookReceiver;
  const logLines: { msg: string; host?: string }[] = [];

  before(async () => {
    dataDir = makeTempDataDir();
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as { msg: string });
        done();
      },
    });
    ctx = await createServiceContext(
      loadConfig({
        TRIGGERS_DATA_DIR: dataDir,
        TRIGGERS_LOG_LEVEL: 'info',
        TRIGGERS_SQLITE_SYNCHRONOUS: 'normal',
        TRIGGERS_BREAKER_MIN_REQUESTS: '1',
        TRIGGERS_BREAKER_ERROR_PERCENT: '50',
        TRIGGERS_BREAKER_RESET_MS: String(RESET_MS),
        // The failed first delivery's retry stays out of the way.
        TRIGGERS_RETRY_BASE_MS: '600000',
      }),
      { service: 'half-open-probe-test', log: createLogger({ level: 'info', service: 'half-open-probe-test', destination }) },
    );
    receiver = await receivers.start({ answers: [{ status: 503 }], otherwise: { status: 200 } });
  });

  after(async () => {
    await deliverer?.stop();
    await ctx?.backends.close();
    await receivers.closeAll();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** The webhook-ids the receiver got, in order. */
  const requests = () => receiver.requests.map((r) => String(r.headers['webhook-id']));

  /** An event with one pending delivery to the receiver, and its attempt-1 message on the queue. */
  async function enqueueDelivery(): Promise<string> {
    const message = await createPendingDelivery(ctx, receiver.url(), 'probe.test');
    await ctx.backends.queue.send('deliveries', { body: message, key: message.workflowId });
    return message.deliveryId;
  }

  async function until(check: () => boolean, what: string, withinMs = 10_000): Promise<void> {
    for (const deadline = Date.now() + withinMs; !check(); await sleep(20)) {
      if (Date.now() > deadline) assert.fail(`not within ${withinMs} ms: ${what}`);
    }
  }

  const transitions = () => logLines.filter((l) => l.msg.endsWith('circuit for host')).map((l) => l.msg);

  it('leaves the circuit half-open, and the next real request probes and closes it', async function () {
    const store = ctx.backends.deliveryStore;
    const claim = store.incrementAttempts.bind(store);
    let racedId: string | undefined;
    let rivalClaimed = false;
    let probeLostClaim = false;
    store.incrementAttempts = async (deliveryId, expected, now, claimUntil) => {
      if (deliveryId === racedId && !rivalClaimed) {
        rivalClaimed = true;
        assert.equal(await claim(deliveryId, expected, now, claimUntil), true, 'the rival deliverer claims the attempt first');
        const won = await claim(deliveryId, expected, now, claimUntil);
        probeLostClaim = !won;
        return won;
      }
      return claim(deliveryId, expected, now, claimUntil);
    };
    deliverer = startDeliverer(ctx);

    const first = await enqueueDelivery();
    await until(() => transitions().includes('Opened circuit for host'), 'the 503 opened the circuit');
    assert.deepEqual(requests(), [first]);
    await until(() => transitions().includes('Half-opened circuit for host'), 'half-open after the reset', RESET_MS * 10);

    racedId = await enqueueDelivery();
    await until(() => probeLostClaim, 'the probe lost the claim to the rival');
    await sleep(300);
    assert.deepEqual(requests(), [first], 'the probe sent nothing');
    assert.deepEqual(transitions(), ['Opened circuit for host', 'Half-opened circuit for host'], 'not closed without a real request');

    const third = await enqueueDelivery();
    await until(() => requests().includes(third), 'the next delivery is sent as the probe');
    await until(() => transitions().includes('Closed circuit for host'), 'its 200 closed the circuit');
    assert.deepEqual(transitions(), ['Opened circuit for host', 'Half-opened circuit for host', 'Closed circuit for host']);
  });
});
