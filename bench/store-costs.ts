/**
 * The pipeline's store work per delivery on embedded SQLite, without HTTP, and whether stored
 * history changes it: `npx tsx bench/store-costs.ts [--history N] [--deliveries M] [--wave W]`.
 *
 * Stores N settled (unmatched) events first, then runs M deliveries through the same store and
 * queue calls the matcher and deliverer make (create the delivery, enqueue its message, receive,
 * claim the attempt, record the outcome, ack both messages), W at a time, and prints the CPU time
 * (process.cpuUsage: this process only, so other load on the machine disturbs it far less than a
 * throughput figure) and wall time per delivery, and the sweeper's two queries.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { JsonText, deliveryIdFor, systemClock, type NewEvent } from '@triggers/core/domain';
import { createBackends, createLogger, loadConfig } from '@triggers/core/runtime';
import { deliveryMessage, type DeliveryMessage, type EventMessage } from '@triggers/core/ports';
import { uuidv7At } from '@triggers/testkit';

const { values } = parseArgs({ options: { history: { type: 'string', default: '0' }, deliveries: { type: 'string', default: '20000' }, wave: { type: 'string', default: '64' } } });
const history = Number(values.history);
const total = Number(values.deliveries);
const wave = Number(values.wave);
const customerId = '0190f5c8-0000-7000-8000-000000000001';
const workflowId = '0190f5c8-0000-7000-8000-0000000000f1';

function newEvents(count: number, at: number): NewEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const payload = { event_type: 'bench.delivery', n: i, amount: 12.5, customer: { id: `cus_${i % 5000}`, tier: 'pro' } };
    return { eventId: uuidv7At(at + i), customerId, eventType: 'bench.delivery', payload: JsonText.of(payload), timestamp: at + i };
  });
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'triggers-store-costs-'));
// The embedded defaults (synchronous=full), as `npm start` runs them.
const config = loadConfig({ TRIGGERS_DATA_DIR: dir, TRIGGERS_ENV: 'dev' });
const backends = await createBackends(config, { clock: systemClock, log: createLogger({ level: 'silent', service: 'store-costs' }) });
const { eventStore, deliveryStore, queue } = backends;
try {
  // History: settled events, as after a load that was drained.
  const base = Date.now() - 3600_000;
  for (let i = 0; i < history; i += 1000) {
    const chunk = newEvents(Math.min(1000, history - i), base + i);
    await eventStore.insertEvents(chunk);
    await deliveryStore.settleUnmatched(chunk.map((e) => ({ customerId, eventId: e.eventId })));
  }

  const events = newEvents(total, Date.now());
  for (let i = 0; i < total; i += 500) await eventStore.insertEvents(events.slice(i, i + 500));
  await queue.sendBatch('events', events.map((e) => ({ body: { eventId: e.eventId, customerId } satisfies EventMessage })));

  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  let done = 0;
  while (done < total) {
    // The matcher's part for one received batch of event messages.
    const received = await queue.receive<EventMessage>('events', { maxMessages: wave, visibilityTimeoutMs: 30_000, waitTimeMs: 0 });
    await Promise.all(
      received.map(async (m) => {
        const event = await eventStore.getEvent(customerId, m.body.eventId);
        const now = Date.now();
        const records = await deliveryStore.createDeliveries([{ deliveryId: deliveryIdFor(event!.eventId, workflowId, undefined), eventId: event!.eventId, customerId, workflowId, createdAt: now }]);
        await queue.sendBatch('deliveries', records.map((r) => deliveryMessage(r, { delayMs: 0 })));
        await queue.ack('events', m.receipt);
      }),
    );
    // The deliverer's part, the webhook answering 200 at once.
    const deliveries = await queue.receive<DeliveryMessage>('deliveries', { maxMessages: wave, visibilityTimeoutMs: 30_000, waitTimeMs: 0 });
    await Promise.all(
      deliveries.map(async (m) => {
        const d = (await deliveryStore.getDelivery(m.body.deliveryId))!;
        await eventStore.getEvent(customerId, d.eventId);
        const startedAt = Date.now();
        await deliveryStore.incrementAttempts(d.deliveryId, 0, startedAt, startedAt + 35_000);
        const attempt = { eventId: d.eventId, customerId, workflowId, deliveryId: d.deliveryId, attempt: 1, status: 'succeeded' as const, statusCode: 200, error: null, durationMs: 1, timestamp: startedAt, responseBody: null };
        await deliveryStore.recordAttempts([{ deliveryId: d.deliveryId, attempt, next: { status: 'succeeded' }, now: Date.now() }]);
        await queue.ack('deliveries', m.receipt);
      }),
    );
    done += deliveries.length;
    if (received.length === 0 && deliveries.length === 0) throw new Error(`stalled at ${done} of ${total}`);
  }
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - wall0;

  const sweep0 = performance.now();
  await deliveryStore.listOverdue(Date.now(), 60_000, 500);
  const overdueMs = performance.now() - sweep0;
  const stale0 = performance.now();
  await eventStore.listStalePending(Date.now() - 60_000, 500);
  const staleMs = performance.now() - stale0;
  const cpuUs = (cpu.user + cpu.system) / total;
  process.stdout.write(
    `history ${history.toLocaleString('en-US')} events, ${total.toLocaleString('en-US')} deliveries in waves of ${wave}: ` +
      `CPU ${cpuUs.toFixed(0)} µs/delivery (${((cpu.user + cpu.system) / 1e6).toFixed(2)} s), wall ${((wallMs * 1000) / total).toFixed(0)} µs/delivery, ` +
      `${Math.round((total * 1000) / wallMs).toLocaleString('en-US')} deliveries/s; sweeper listOverdue ${overdueMs.toFixed(1)} ms, listStalePending ${staleMs.toFixed(1)} ms\n`,
  );
} finally {
  await backends.close();
  rmSync(dir, { recursive: true, force: true });
}
