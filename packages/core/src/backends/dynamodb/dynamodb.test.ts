import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { DescribeTableCommand, DescribeTimeToLiveCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { requireEngine, uuidv7At } from '@triggers/testkit';
import type { NewEvent } from '../../domain/events.ts';
import { JsonText } from '../../domain/json/json-text.ts';
import { DependencyError } from '../../errors.ts';
import { awsClientConfig } from '../aws.ts';
import { openDynamoBackends } from './index.ts';
import { DynamoEventStore } from './event-store.ts';
import { DynamoDeliveryStore } from './delivery-store.ts';
import { DynamoTable, INDEX, TTL_ATTRIBUTE, ensureTable } from './table.ts';
import { DYNAMODB_ENGINE, deleteTable, testTableName } from './testing.ts';

const SHARDS = 4;
const TTL_DAYS = 30;

interface Call {
  command: string;
  input: Record<string, unknown>;
}

function newEvent(customerId: string, timestamp = Date.now(), eventType: string | null = 'order.created'): NewEvent {
  return { eventId: uuidv7At(timestamp), customerId, payload: JsonText.of({ event_type: eventType, n: Math.random() }), eventType, timestamp };
}

describe('DynamoDB specifics', function () {
  describe('on a DynamoDB engine', function () {
    const engine = requireEngine(DYNAMODB_ENGINE);
    const table = testTableName();
    let client: DynamoDBClient;
    let doc: DynamoDBDocumentClient;
    let events: DynamoEventStore;
    let deliveries: DynamoDeliveryStore;
    const calls: Call[] = [];

    before(async function () {
      client = new DynamoDBClient(awsClientConfig({ endpoint: engine.address, region: 'us-east-1', requestTimeoutMs: 10_000 }));
      await ensureTable(client, table);
      doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
      // Records every request, so tests can tell which index served a query (and that none scans).
      doc.middlewareStack.add(
        (next, context) => async (args) => {
          calls.push({ command: context.commandName ?? '', input: args.input as Record<string, unknown> });
          return next(args);
        },
        { step: 'initialize', name: 'recordCalls' },
      );
      const dynamoTable = new DynamoTable(doc, table, SHARDS, TTL_DAYS * 86_400);
      events = new DynamoEventStore(dynamoTable);
      deliveries = new DynamoDeliveryStore(dynamoTable);
    });

    after(async function () {
      if (!client) return; // skipped: the engine did not answer
      client.destroy();
      await deleteTable(engine.address, table);
    });

    const rawItems = async (pk: string) =>
      (await doc.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ConsistentRead: true }))).Items ?? [];

    it('creates the table on demand, pay per request, with its indexes and TTL on expires_at; opening again is harmless', async function () {
      const name = testTableName();
      try {
        const [a, b] = await Promise.all([1, 2].map(() => openDynamoBackends({ endpoint: engine.address, region: 'us-east-1', table: name, shards: 2, ttlDays: 7 })));
        await a.close();
        await b.close();
        const again = await openDynamoBackends({ endpoint: engine.address, region: 'us-east-1', table: name, shards: 2, ttlDays: 7 });
        await again.ping();
        await again.close();
        const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
        assert.equal(Table?.TableStatus, 'ACTIVE');
        assert.equal(Table?.BillingModeSummary?.BillingMode, 'PAY_PER_REQUEST');
        assert.deepEqual(Table?.KeySchema?.map((k) => `${k.AttributeName}:${k.KeyType}`), ['pk:HASH', 'sk:RANGE']);
        assert.deepEqual(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName).sort(), Object.values(INDEX).sort());
        const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: name }));
        assert.equal(ttl.TimeToLiveDescription?.AttributeName, TTL_ATTRIBUTE);
        assert.ok(['ENABLED', 'ENABLING'].includes(ttl.TimeToLiveDescription?.TimeToLiveStatus ?? ''));
      } finally {
        await deleteTable(engine.address, name);
      }
    });

    it('spreads one customer\'s events over its shards, keyed customer#shard with the event id as sort key', async function () {
      const customerId = randomUUID();
      const batch = Array.from({ length: 40 }, (_, i) => newEvent(customerId, Date.now() - i));
      await events.insertEvents(batch);
      const perShard = await Promise.all(Array.from({ length: SHARDS }, (_, shard) => rawItems(`${customerId}#${shard}`)));
      assert.equal(perShard.flat().length, 40);
      assert.ok(perShard.every((items) => items.length > 0), `every shard holds some: ${perShard.map((i) => i.length).join(', ')}`);
      for (const item of perShard.flat()) assert.equal(typeof item.sk, 'string');
      assert.deepEqual(new Set(perShard.flat().map((i) => i.sk)), new Set(batch.map((e) => e.eventId)));
    });

    it('stamps events, attempts and deliveries with expires_at = their time + ttlDays (epoch seconds)', async function () {
      const customerId = randomUUID();
      const event = newEvent(customerId);
      await events.insertEvents([event]);
      const attemptAt = event.timestamp + 5000;
      const [delivery] = await deliveries.createDeliveries([{ deliveryId: `msg_${randomUUID()}`, eventId: event.eventId, customerId, workflowId: 'w', createdAt: attemptAt }]);
      assert.equal(await deliveries.incrementAttempts(delivery.deliveryId, 0, attemptAt), true);
      const attempt = { eventId: event.eventId, customerId, workflowId: 'w', deliveryId: delivery.deliveryId, attempt: 1, status: 'succeeded' as const, statusCode: 200, error: null, durationMs: 5, timestamp: attemptAt, responseBody: null };
      await deliveries.recordAttempts([{ deliveryId: delivery.deliveryId, attempt, next: { status: 'succeeded' }, now: attemptAt }]);
      const items = await rawItems(`${customerId}#${new DynamoTable(doc, table, SHARDS, 0).shardOf(event.eventId)}`);
      const eventItem = items.find((i) => i.sk === event.eventId)!;
      const attemptItem = items.find((i) => i.sk !== event.eventId)!;
      assert.equal(eventItem[TTL_ATTRIBUTE], Math.floor(event.timestamp / 1000) + TTL_DAYS * 86_400);
      assert.equal(attemptItem[TTL_ATTRIBUTE], Math.floor(attemptAt / 1000) + TTL_DAYS * 86_400);
      const [deliveryItem] = await rawItems(`dlv#${delivery.deliveryId}`);
      assert.equal(deliveryItem[TTL_ATTRIBUTE], Math.floor(attemptAt / 1000) + TTL_DAYS * 86_400);
    });

    it('serves the inbox and its status, type and time filters with key-range queries on the table or an index, never a scan', async function () {
      const customerId = randomUUID();
      const base = Date.now() - 60_000;
      const batch = Array.from({ length: 12 }, (_, i) => newEvent(customerId, base + i, i % 2 ? 'a' : 'b'));
      await events.insertEvents(batch);
      await events.setStatus(customerId, batch[3].eventId, 'failed');

      const source = async (query: Parameters<DynamoEventStore['listEvents']>[1]) => {
        calls.length = 0;
        const page = await events.listEvents(customerId, query);
        assert.ok(calls.length >= SHARDS, 'one query per shard at least');
        assert.ok(calls.every((c) => c.command === 'QueryCommand'), calls.map((c) => c.command).join());
        assert.ok(calls.every((c) => String(c.input.KeyConditionExpression).includes('BETWEEN')), 'bounded by a key range');
        return { page, indexes: [...new Set(calls.map((c) => (c.input.IndexName as string | undefined) ?? 'table'))] };
      };
      assert.deepEqual((await source({ limit: 5 })).indexes, ['table']);
      assert.deepEqual((await source({ limit: 5, startTime: base + 3, endTime: base + 9 })).indexes, ['table']);
      const failed = await source({ limit: 5, status: 'failed' });
      assert.deepEqual(failed.indexes, [INDEX.byStatus]);
      assert.deepEqual(failed.page.events.map((e) => e.eventId), [batch[3].eventId]);
      const typed = await source({ limit: 50, eventType: 'a', startTime: base + 2 });
      assert.deepEqual(typed.indexes, [INDEX.byType]);
      assert.equal(typed.page.events.length, 5);
      assert.deepEqual((await source({ limit: 5, status: 'failed', eventType: 'a' })).indexes, [INDEX.byStatus]);
    });

    it('stores and filters by an event type longer than a DynamoDB key may be', async function () {
      const customerId = randomUUID();
      const long = 't'.repeat(3000);
      const [a, b] = [newEvent(customerId, Date.now() - 2, long), newEvent(customerId, Date.now() - 1, `${long}x`)];
      await events.insertEvents([a, b]);
      assert.deepEqual((await events.listEvents(customerId, { limit: 10, eventType: long })).events.map((e) => e.eventId), [a.eventId]);
      assert.equal((await events.getEvent(customerId, b.eventId))?.eventType, `${long}x`);
    });

    it('keeps the cursor contract across shards while events arrive in every shard', async function () {
      const customerId = randomUUID();
      const initial = Array.from({ length: 30 }, (_, i) => newEvent(customerId, Date.now() - 10_000 + i));
      await events.insertEvents(initial);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await events.listEvents(customerId, { limit: 4, cursor });
        seen.push(...page.events.map((e) => e.eventId));
        await events.insertEvents(Array.from({ length: 8 }, () => newEvent(customerId)));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      assert.deepEqual(seen, initial.map((e) => e.eventId).sort().reverse());
    });

    it('writes a batch above 100 events in several transactions', async function () {
      const customerId = randomUUID();
      const batch = Array.from({ length: 250 }, (_, i) => newEvent(customerId, Date.now() - 1000 + i));
      calls.length = 0;
      await events.insertEvents(batch);
      const transactions = calls.filter((c) => c.command.startsWith('TransactWrite'));
      assert.deepEqual(transactions.map((t) => (t.input.TransactItems as unknown[]).length), [100, 100, 50]);
      const page = await events.listEvents(customerId, { limit: 1000 });
      assert.equal(page.events.length, 250);
    });

    it('rolls back the transactions that succeeded when another part of a batch above 100 events fails', async function () {
      const customerId = randomUUID();
      const existing = newEvent(customerId, Date.now() - 5000);
      await events.insertEvents([existing]);
      const batch = [...Array.from({ length: 230 }, (_, i) => newEvent(customerId, Date.now() - 1000 + i)), { ...existing, payload: JsonText.of({ changed: true }) }];
      await assert.rejects(events.insertEvents(batch), (error: unknown) => error instanceof DependencyError && !error.retryable);
      const page = await events.listEvents(customerId, { limit: 1000 });
      assert.deepEqual(page.events.map((e) => e.eventId), [existing.eventId], 'only the event that existed before');
      assert.deepEqual(page.events[0].payload, existing.payload);
    });

    it('settles an event exactly once all its deliveries finish concurrently', async function () {
      for (const succeeded of [0, 1]) {
        const customerId = randomUUID();
        const event = newEvent(customerId);
        await events.insertEvents([event]);
        const created = await deliveries.createDeliveries(
          Array.from({ length: 8 }, () => ({ deliveryId: `msg_${randomUUID()}`, eventId: event.eventId, customerId, workflowId: randomUUID(), createdAt: Date.now() })),
        );
        const results = await Promise.all(
          created.map((d, i) => deliveries.finishDelivery(d.deliveryId, { status: i < succeeded ? 'succeeded' : 'failed', now: Date.now() })),
        );
        const expected = succeeded ? 'delivered' : 'failed';
        assert.equal((await events.getEvent(customerId, event.eventId))?.status, expected);
        assert.ok(results.some((r) => r?.eventStatus === expected), 'the last finisher reports the settled status');
      }
    });

    it('counts an event as stranded for the sweeper only while it is pending without deliveries, also after a replay', async function () {
      const customerId = randomUUID();
      const old = Date.now() - 3_600_000;
      const event = newEvent(customerId, old);
      await events.insertEvents([event]);
      const stranded = async () => (await deliveries.listOverdue(Date.now(), 60_000, 10_000)).eventsWithoutDeliveries.some((e) => e.eventId === event.eventId);
      const stale = async () => (await events.listStalePending(Date.now() - 60_000, 10_000)).some((e) => e.eventId === event.eventId);
      assert.equal(await stranded(), true);
      assert.equal(await stale(), true);

      const [d] = await deliveries.createDeliveries([{ deliveryId: `msg_${randomUUID()}`, eventId: event.eventId, customerId, workflowId: 'w', createdAt: old }]);
      assert.equal(await stranded(), false, 'it has a delivery now');
      assert.equal(await stale(), true, 'still pending');

      await deliveries.finishDelivery(d.deliveryId, { status: 'failed', now: Date.now() });
      assert.equal((await events.getEvent(customerId, event.eventId))?.status, 'failed');
      assert.equal(await stale(), false);

      // A replay sets it back to pending: it has deliveries, so it is pending but not stranded.
      assert.equal(await events.setStatus(customerId, event.eventId, 'pending', ['failed', 'unmatched']), true);
      assert.equal(await stale(), true);
      assert.equal(await stranded(), false);
    });

    it('refuses fewer than one shard and a TTL of no days', async function () {
      await assert.rejects(openDynamoBackends({ endpoint: engine.address, region: 'us-east-1', table, shards: 0, ttlDays: 1 }), RangeError);
      await assert.rejects(openDynamoBackends({ endpoint: engine.address, region: 'us-east-1', table, shards: 2, ttlDays: 0 }), RangeError);
    });
  });

  describe('without an engine', function () {
    it('fails to open with a retryable DependencyError when DynamoDB is unreachable', async function () {
      await assert.rejects(openDynamoBackends({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', table: 'nowhere', shards: 2, ttlDays: 1 }), (error: unknown) => {
        assert.ok(error instanceof DependencyError, String(error));
        assert.equal(error.backend, 'dynamodb');
        assert.equal(error.retryable, true);
        return true;
      });
    });
  });
});
