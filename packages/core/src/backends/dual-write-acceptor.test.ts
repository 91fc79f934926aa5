import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { NewEvent } from '../domain/events.ts';
import type { EventStore } from '../ports/event-store.ts';
import type { Queue } from '../ports/queue.ts';
import type { IdempotencyStore } from '../ports/idempotency-store.ts';
import { createLogger } from '../log.ts';
import { DualWriteEventAcceptor } from './dual-write-acceptor.ts';

function events(count: number): NewEvent[] {
  const customerId = randomUUID();
  return Array.from({ length: count }, () => ({ eventId: randomUUID(), customerId, payload: {}, eventType: null, timestamp: Date.now() }));
}

/** Records the size of every store write; everything else is a no-op. */
function fakes(maxAtomicBatch?: number) {
  const writes: number[] = [];
  const eventStore = { maxAtomicBatch, insertEvents: async (batch: NewEvent[]) => void writes.push(batch.length) } as unknown as EventStore;
  const queue = { sendBatch: async () => undefined } as unknown as Queue;
  const acceptor = new DualWriteEventAcceptor(eventStore, queue, {} as IdempotencyStore, createLogger({ level: 'silent', service: 'test' }));
  return { writes, acceptor };
}

describe('Dual-write acceptor grouping', function () {
  it("groups concurrent requests into one store write only up to the store's atomic batch", async function () {
    const { writes, acceptor } = fakes(100);
    await Promise.all([60, 30, 20, 90, 10].map((n) => acceptor.accept({ events: events(n) })));
    assert.deepEqual(writes, [90, 20, 100]);
  });

  it('writes a request larger than the atomic batch alone', async function () {
    const { writes, acceptor } = fakes(100);
    await Promise.all([10, 250, 10].map((n) => acceptor.accept({ events: events(n) })));
    assert.deepEqual(writes, [10, 250, 10]);
  });

  it('groups up to 500 events when the store has no atomic limit', async function () {
    const { writes, acceptor } = fakes(undefined);
    await Promise.all([200, 200, 200].map((n) => acceptor.accept({ events: events(n) })));
    assert.deepEqual(writes, [400, 200]);
  });
});
