import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { eventAcceptorConformance, requireEngine, type EventAcceptorFixture } from '@triggers/testkit';
import type { NewEvent } from '../domain/events.ts';
import { JsonText } from '../domain/json/json-text.ts';
import type { EventStore } from '../ports/event-store.ts';
import type { Queue } from '../ports/queue.ts';
import type { IdempotencyStore } from '../ports/idempotency-store.ts';
import { createLogger } from '../log.ts';
import { DualWriteEventAcceptor } from './dual-write-acceptor.ts';
import { DYNAMODB_ENGINE, temporaryTable } from './dynamodb/testing.ts';
import { createPostgresEventStore } from './postgres/event-store.ts';
import { POSTGRES_TEST_ENGINE, temporarySchemas } from './postgres/testing.ts';
import { createSqliteEventStore } from './sqlite/event-store.ts';
import { createSqliteIdempotencyStore } from './sqlite/idempotency-store.ts';
import { createSqliteQueue } from './sqlite/queue.ts';
import { temporaryDatabases } from './sqlite/testing.ts';

const log = createLogger({ level: 'silent', service: 'test' });

/**
 * The dual-write acceptor over each event store, with a SQLite queue and idempotency store of
 * its own (the acceptor's contract does not depend on which queue it sends to).
 */
function dualWriteOver(eventStore: () => Promise<EventStore>, databases: ReturnType<typeof temporaryDatabases>): () => Promise<EventAcceptorFixture> {
  return async () => {
    const store = await eventStore();
    const db = await databases.open();
    const queue = createSqliteQueue(db, { maxReceives: 3 });
    const idempotencyStore = createSqliteIdempotencyStore(db);
    return {
      eventStore: store,
      queue,
      idempotencyStore,
      newAcceptor: () => new DualWriteEventAcceptor(store, queue, idempotencyStore, log),
      close: async () => undefined, // the engines are closed by the describe's own hooks
    };
  };
}

describe('Dual-write acceptor', function () {
  const databases = temporaryDatabases();
  after(() => databases.closeAll());

  describe('over the SQLite event store', function () {
    eventAcceptorConformance(dualWriteOver(async () => createSqliteEventStore(await databases.open()), databases));
  });

  describe('over the PostgreSQL event store', function () {
    const postgres = requireEngine(POSTGRES_TEST_ENGINE);
    const schemas = temporarySchemas(() => postgres.address, 'acceptor');
    after(() => schemas.dropAll());
    eventAcceptorConformance(dualWriteOver(async () => createPostgresEventStore(await schemas.open()), databases));
  });

  describe('over the DynamoDB event store', function () {
    const dynamodb = requireEngine(DYNAMODB_ENGINE);
    const table = temporaryTable(() => dynamodb.address);
    after(() => table.cleanup());
    eventAcceptorConformance(dualWriteOver(async () => (await table.open()).eventStore, databases));
  });
});

function events(count: number): NewEvent[] {
  const customerId = randomUUID();
  return Array.from({ length: count }, () => ({ eventId: randomUUID(), customerId, payload: JsonText.of({}), eventType: null, timestamp: Date.now() }));
}

/** Records the size of every store write; everything else is a no-op. */
function fakes(maxAtomicBatch?: number) {
  const writes: number[] = [];
  const eventStore = { maxAtomicBatch, insertEvents: async (batch: NewEvent[]) => void writes.push(batch.length) } as unknown as EventStore;
  const queue = { sendBatch: async () => undefined } as unknown as Queue;
  const acceptor = new DualWriteEventAcceptor(eventStore, queue, {} as IdempotencyStore, log);
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
