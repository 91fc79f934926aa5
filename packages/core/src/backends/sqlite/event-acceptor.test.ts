import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { eventAcceptorConformance } from '@triggers/testkit';
import { DependencyError } from '../../errors.ts';
import { uuidv7 } from '../../ids.ts';
import type { NewEvent } from '../../domain/events.ts';
import { JsonText } from '../../domain/json/json-text.ts';
import { eventIdsOf, eventTraceparentOf, type EventMessage } from '../../ports/queue-messages.ts';
import type { SqliteDatabase } from './database.ts';
import { createSqliteEventAcceptor } from './event-acceptor.ts';
import { createSqliteEventStore } from './event-store.ts';
import { createSqliteIdempotencyStore } from './idempotency-store.ts';
import { createSqliteQueue } from './queue.ts';
import { temporaryDatabases } from './testing.ts';

function newEvent(customerId: string): NewEvent {
  const timestamp = Date.now();
  return { eventId: uuidv7(timestamp), customerId, payload: JsonText.of({ event_type: 'order.created', n: Math.random() }), eventType: 'order.created', timestamp };
}

function queuedEventIds(db: SqliteDatabase, customerId: string): string[] {
  return (db.prepare("SELECT body FROM queue_messages WHERE topic = 'events'").all() as { body: string }[])
    .map((row) => JSON.parse(row.body) as EventMessage)
    .filter((m) => m.customerId === customerId)
    .flatMap(eventIdsOf);
}

describe('SQLite event acceptor (the outbox)', function () {
  const databases = temporaryDatabases();
  let db: SqliteDatabase;
  after(() => databases.closeAll());
  before(async function () {
    db = await databases.open();
  });

  eventAcceptorConformance(async () => {
    const shared = await databases.open();
    return {
      eventStore: createSqliteEventStore(shared),
      queue: createSqliteQueue(shared, { maxReceives: 3 }),
      idempotencyStore: createSqliteIdempotencyStore(shared),
      newAcceptor: () => createSqliteEventAcceptor(shared),
      close: async () => undefined, // closeAll closes the database
    };
  });

  it('group-commits concurrent calls: all stored and enqueued, in far fewer transactions than calls', async function () {
    const groups: { calls: number; events: number }[] = [];
    const acceptor = createSqliteEventAcceptor(db, { onGroupCommitted: (g) => groups.push(g) });
    const store = createSqliteEventStore(db);
    const customerId = randomUUID();
    const acceptances = Array.from({ length: 400 }, (_, i) => ({ events: Array.from({ length: 1 + (i % 3) }, () => newEvent(customerId)) }));
    await Promise.all(acceptances.map((a) => acceptor.accept(a)));

    const all = acceptances.flatMap((a) => a.events.map((e) => e.eventId));
    assert.equal(all.length, 799);
    for (const id of all) assert.ok(await store.getEvent(customerId, id), `stored ${id}`);
    assert.deepEqual(queuedEventIds(db, customerId).sort(), [...all].sort());
    assert.ok(groups.length <= 2, `${groups.length} transactions for 400 calls`);
    assert.equal(groups.reduce((n, g) => n + g.calls, 0), 400);
    // One message per customer and group (split at 500 ids), not one per event.
    const messages = (db.prepare("SELECT body FROM queue_messages WHERE topic = 'events'").all() as { body: string }[])
      .map((row) => JSON.parse(row.body) as EventMessage)
      .filter((m) => m.customerId === customerId);
    assert.ok(messages.length <= groups.length + 1, `${messages.length} messages for ${groups.length} groups`);
    for (const m of messages) assert.ok(eventIdsOf(m).length <= 500 && eventIdsOf(m)[0] === m.eventId);
  });

  it('groups the events of concurrent requests with different trace contexts into one message, each event keeping its own', async function () {
    const groups: { calls: number; events: number }[] = [];
    const acceptor = createSqliteEventAcceptor(db, { onGroupCommitted: (g) => groups.push(g) });
    const customerId = randomUUID();
    const traceparentOf = (i: number) => (i % 5 === 4 ? undefined : `00-${(i + 1).toString(16).padStart(32, '0')}-${'b'.repeat(16)}-01`);
    // 600 single-event requests (as traced ingest makes them), one batch request of 3 sharing one context.
    const acceptances = Array.from({ length: 600 }, (_, i) => ({ events: [newEvent(customerId)], traceparent: traceparentOf(i) }));
    const batch = { events: [newEvent(customerId), newEvent(customerId), newEvent(customerId)], traceparent: `00-${'c'.repeat(32)}-${'d'.repeat(16)}-01` };
    await Promise.all([...acceptances, batch].map((a) => acceptor.accept(a)));

    const messages = (db.prepare("SELECT body FROM queue_messages WHERE topic = 'events'").all() as { body: string }[])
      .map((row) => JSON.parse(row.body) as EventMessage)
      .filter((m) => m.customerId === customerId);
    assert.ok(messages.length <= groups.length + 2, `${messages.length} messages for ${groups.length} groups of 603 events: tracing must not make one per event`);
    const contextOf = new Map<string, string | undefined>();
    for (const m of messages) {
      const ids = eventIdsOf(m);
      assert.ok(ids.length <= 500);
      if (m.traceparents) {
        assert.equal(m.traceparent, undefined);
        assert.equal(m.traceparents.length, ids.length);
      }
      ids.forEach((id, i) => contextOf.set(id, eventTraceparentOf(m, i)));
    }
    assert.equal(contextOf.size, 603);
    acceptances.forEach((a, i) => assert.equal(contextOf.get(a.events[0].eventId), traceparentOf(i), `event ${i}`));
    for (const e of batch.events) assert.equal(contextOf.get(e.eventId), batch.traceparent);
  });

  it('caps a group at maxGroupEvents events', async function () {
    const groups: { calls: number; events: number }[] = [];
    const acceptor = createSqliteEventAcceptor(db, { maxGroupEvents: 100, onGroupCommitted: (g) => groups.push(g) });
    const customerId = randomUUID();
    await Promise.all(Array.from({ length: 350 }, () => acceptor.accept({ events: [newEvent(customerId)] })));
    assert.deepEqual(groups.map((g) => g.events), [100, 100, 100, 50]);
    assert.equal(queuedEventIds(db, customerId).length, 350);
  });

  it('is atomic per group: one failing call rejects every caller of its group with DependencyError and stores nothing of it', async function () {
    const acceptor = createSqliteEventAcceptor(db);
    const store = createSqliteEventStore(db);
    const idempotency = createSqliteIdempotencyStore(db);
    const customerId = randomUUID();
    const existing = newEvent(customerId);
    await acceptor.accept({ events: [existing] });
    await idempotency.claim(customerId, 'key-in-failed-group', 'hash', { leaseMs: 60_000, ttlMs: 60_000 });

    const innocent = [newEvent(customerId), newEvent(customerId)];
    const withKey = newEvent(customerId);
    const results = await Promise.allSettled([
      acceptor.accept({ events: innocent }),
      acceptor.accept({
        events: [withKey],
        idempotency: { customerId, key: 'key-in-failed-group', response: { status: 202, body: {} }, ttlMs: 60_000 },
      }),
      acceptor.accept({ events: [newEvent(customerId), { ...existing }] }), // duplicate event id
    ]);

    for (const result of results) {
      assert.equal(result.status, 'rejected');
      assert.ok(result.reason instanceof DependencyError, String(result.reason));
    }
    for (const event of [...innocent, withKey]) assert.equal(await store.getEvent(customerId, event.eventId), null);
    assert.deepEqual(queuedEventIds(db, customerId), [existing.eventId], 'only the earlier event was enqueued');
    assert.equal((await idempotency.claim(customerId, 'key-in-failed-group', 'hash', { leaseMs: 60_000, ttlMs: 60_000 })).state, 'in_progress', 'the key was not completed');

    const later = newEvent(customerId);
    await acceptor.accept({ events: [later] });
    assert.ok(await store.getEvent(customerId, later.eventId), 'the acceptor keeps working after a failed group');
  });

  it('wakes a receiver waiting on the same connection at once', async function () {
    this.retries(2); // wall-clock latency: tolerate one starved sample
    const acceptor = createSqliteEventAcceptor(db);
    const queue = createSqliteQueue(db, { maxReceives: 3, pollIntervalMs: 10_000 });
    // Drain what earlier tests enqueued.
    while ((await queue.receive('events', { maxMessages: 1000, visibilityTimeoutMs: 60_000, waitTimeMs: 0 })).length > 0);
    const receiving = queue.receive<EventMessage>('events', { maxMessages: 10, visibilityTimeoutMs: 60_000, waitTimeMs: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const event = newEvent(randomUUID());
    const start = Date.now();
    await acceptor.accept({ events: [event] });
    const messages = await receiving;
    assert.deepEqual(messages.map((m) => m.body.eventId), [event.eventId]);
    assert.ok(Date.now() - start < 100, `woken after ${Date.now() - start} ms`);
  });

  it('with synchronous=full, resolves only after an fdatasync of the WAL that began after the commit, without blocking the thread', async function () {
    const full = await databases.open(undefined, 'full');
    const reader = await databases.open(path.dirname(full.name), 'normal');
    const acceptor = createSqliteEventAcceptor(full);
    const original = fs.fdatasync;
    const syncs: { file: string; storedAtSync: boolean; release: () => void }[] = [];
    const event = newEvent(randomUUID());
    (fs as { fdatasync: unknown }).fdatasync = (fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
      const stored = reader.prepare('SELECT count(*) AS n FROM events WHERE event_id = ?').get(event.eventId) as { n: number };
      syncs.push({ file: fs.readlinkSync(`/proc/self/fd/${fd}`), storedAtSync: stored.n === 1, release: () => original(fd, callback) });
    };
    try {
      let resolved = false;
      const accepting = acceptor.accept({ events: [event] }).then(() => (resolved = true));
      // The thread is free while the sync is outstanding: timers run, the caller is still waiting.
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(syncs.length, 1, 'one WAL sync for the group');
      assert.equal(syncs[0].file, `${fs.realpathSync(full.name)}-wal`);
      assert.ok(syncs[0].storedAtSync, 'the sync starts after the commit');
      assert.equal(resolved, false, 'not acknowledged before the WAL is synced');
      assert.equal(Number(full.pragma('synchronous', { simple: true })), 2, 'the connection is back at synchronous=full');
      syncs[0].release();
      await accepting;
      assert.equal(resolved, true);
    } finally {
      (fs as { fdatasync: unknown }).fdatasync = original;
      await acceptor.close();
    }
    // Many concurrent calls, real syncs: all stored and enqueued.
    const second = createSqliteEventAcceptor(full);
    const customerId = randomUUID();
    const acceptances = Array.from({ length: 200 }, () => ({ events: [newEvent(customerId)] }));
    await Promise.all(acceptances.map((a) => second.accept(a)));
    await second.close();
    assert.equal(queuedEventIds(full, customerId).length, 200);
  });
});
