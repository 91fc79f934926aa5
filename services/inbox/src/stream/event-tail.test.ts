import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { JsonText, systemClock, uuidv7LowerBound, type NewEvent } from '@triggers/core/domain';
import { createBackends, createLogger, loadConfig, type Backends } from '@triggers/core/runtime';
import { uniqueId, uuidv7At } from '@triggers/testkit';
import { EventTail, TAIL_PAGE } from './event-tail.ts';

/**
 * The stream's reader on a real SQLite event store, with ids placed at chosen milliseconds: dense
 * milliseconds (more than a page in one), a long quiet gap, filters, and a horizon that moves.
 */
describe('EventTail (the event stream reader)', () => {
  let dataDir: string;
  let backends: Backends;
  const T0 = Date.UTC(2026, 0, 15, 10, 0, 0);

  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'triggers-tail-'));
    const config = loadConfig({ TRIGGERS_DATA_DIR: dataDir, TRIGGERS_SQLITE_SYNCHRONOUS: 'normal', TRIGGERS_LOG_LEVEL: 'silent' });
    backends = await createBackends(config, { clock: systemClock, log: createLogger({ level: 'silent', service: 'test' }) });
  });
  after(async () => {
    await backends?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function insertAt(customerId: string, times: number[], eventType: string | null = null): Promise<string[]> {
    const events: NewEvent[] = times.map((ms, i) => ({ eventId: uuidv7At(ms), customerId, eventType, payload: JsonText.of({ i, ...(eventType ? { event_type: eventType } : {}) }), timestamp: ms }));
    await backends.eventStore.insertEvents(events);
    return events.map((e) => e.eventId).sort();
  }

  async function drain(tail: EventTail, horizon: number): Promise<{ ids: string[]; reads: number }> {
    const ids: string[] = [];
    let reads = 0;
    for (;;) {
      const batch = await tail.readNext(horizon);
      reads++;
      ids.push(...batch.map((e) => e.eventId));
      assert.ok(batch.length < 2 * TAIL_PAGE || new Set(batch.map((e) => e.timestamp)).size === 1, `a read of ${batch.length} events`);
      if (batch.length < TAIL_PAGE) return { ids, reads };
    }
  }

  it('visits every event after the position once, oldest first, across dense milliseconds and a long gap', async () => {
    const customerId = uniqueId();
    const dense = Array.from({ length: 250 }, () => T0 + 5); // 2.5 pages in one millisecond
    const spread = Array.from({ length: 180 }, (_, i) => T0 + 10 + i * 7);
    const later = Array.from({ length: 40 }, (_, i) => T0 + 3_600_000 + i); // an hour later
    const all = [...(await insertAt(customerId, [T0, T0 + 1])), ...(await insertAt(customerId, dense)), ...(await insertAt(customerId, spread)), ...(await insertAt(customerId, later))].sort();
    const tail = new EventTail(backends.eventStore, customerId, {}, all[1]);
    const { ids, reads } = await drain(tail, T0 + 4_000_000);
    assert.deepEqual(ids, all.slice(2));
    assert.ok(reads <= 10, `${reads} reads`);
  });

  it('returns nothing past the horizon, then those events once the horizon passes them', async () => {
    const customerId = uniqueId();
    const early = await insertAt(customerId, [T0 + 100, T0 + 200]);
    const late = await insertAt(customerId, [T0 + 300, T0 + 301]);
    const tail = new EventTail(backends.eventStore, customerId, {}, uuidv7LowerBound(T0));
    assert.deepEqual((await tail.readNext(T0 + 250)).map((e) => e.eventId), early);
    assert.deepEqual(await tail.readNext(T0 + 250), []);
    assert.deepEqual((await tail.readNext(T0 + 301)).map((e) => e.eventId), late);
    assert.deepEqual(await tail.readNext(T0 + 10_000), []);
  });

  it('applies the event type filter in the store, and reads only its own customer', async () => {
    const customerId = uniqueId();
    const orders = await insertAt(customerId, Array.from({ length: 150 }, (_, i) => T0 + i), 'order.created');
    await insertAt(customerId, Array.from({ length: 150 }, (_, i) => T0 + i), 'invoice.paid');
    await insertAt(uniqueId(), Array.from({ length: 20 }, (_, i) => T0 + i), 'order.created');
    const tail = new EventTail(backends.eventStore, customerId, { eventType: 'order.created' }, uuidv7LowerBound(T0));
    assert.deepEqual((await drain(tail, T0 + 1000)).ids, orders);
  });
});
