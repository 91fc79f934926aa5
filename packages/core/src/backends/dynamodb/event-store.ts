import { createHash, randomBytes } from 'node:crypto';
import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { DeliveryAttempt, EventStatus, JsonObject, NewEvent, StoredEvent } from '../../domain/events.ts';
import { EVENT_STATUSES } from '../../domain/events.ts';
import { JsonText } from '../../domain/json/json-text.ts';
import type { EventStore, InboxPage, InboxQuery } from '../../ports/event-store.ts';
import { DependencyError, TriggersError } from '../../errors.ts';
import { isUuid, uuidv7LowerBound } from '../../ids.ts';
import { decodeCursor, encodeCursor, isRecord, checkPageLimit } from '../cursor.ts';
import {
  ABOVE_EVENT_IDS,
  ATTEMPT_PREFIX,
  INDEX,
  SWEEP_BUCKETS,
  cancellationReasons,
  isConditionFailed,
  retryConflicts,
  type DynamoTable,
} from './table.ts';
import { mapLimit, mergeSorted, queryAll, type Item } from './query.ts';

/** TransactWriteItems takes at most 100 items and 4 MB in one call. */
export const MAX_TRANSACTION_ITEMS = 100;
const MAX_TRANSACTION_BYTES = 3_500_000;

interface InboxCursor {
  /**
   * The last event id of the previous page. The shards are merged exactly (a page holds the newest
   * events of all shards below the bound), so this one id is every shard's position at once.
   */
  before: string;
}

/**
 * The `by_type` hash key. DynamoDB caps a hash key at 2048 bytes and event types have no length
 * limit, so a long type is keyed by its SHA-256 (queries then also filter on the type itself).
 */
function typeKey(shardPk: string, eventType: string): string {
  return isLongType(eventType) ? `${shardPk}#~sha256:${createHash('sha256').update(eventType).digest('hex')}` : `${shardPk}#${eventType}`;
}

function isLongType(eventType: string): boolean {
  return Buffer.byteLength(eventType) > MAX_PLAIN_TYPE_BYTES;
}

const MAX_PLAIN_TYPE_BYTES = 512;

function isInboxCursor(value: unknown): value is InboxCursor {
  return isRecord(value) && typeof value.before === 'string' && isUuid(value.before);
}

export function toStoredEvent(item: Item): StoredEvent {
  return {
    eventId: item.sk as string,
    customerId: item.customer_id as string,
    eventType: (item.event_type as string | undefined) ?? null,
    payload: new JsonText<JsonObject>(item.payload as string),
    status: item.status as EventStatus,
    timestamp: item.ts as number,
    deliveryAttempts: (item.delivery_attempts as number | undefined) ?? 0,
    lastDeliveryTimestamp: (item.last_delivery_ts as number | undefined) ?? null,
  };
}

function toAttempt(item: Item): DeliveryAttempt {
  return {
    eventId: item.event_id as string,
    customerId: item.customer_id as string,
    workflowId: item.workflow_id as string,
    deliveryId: item.delivery_id as string,
    attempt: item.attempt as number,
    status: item.status as DeliveryAttempt['status'],
    statusCode: (item.status_code as number | null | undefined) ?? null,
    error: (item.error as string | null | undefined) ?? null,
    durationMs: item.duration_ms as number,
    timestamp: item.attempt_ts as number,
    responseBody: (item.response_body as string | null | undefined) ?? null,
  };
}

/**
 * The event store on DynamoDB (see table.ts for the key layout and indexes).
 *
 * - `insertEvents` writes a batch in one TransactWriteItems, so it is atomic up to
 *   `maxAtomicBatch` (100) events that fit in DynamoDB's 4 MB per transaction. A larger batch is
 *   split into several transactions; if one fails, the events of those that succeeded are deleted
 *   again before the call throws. Should that clean-up fail too (the table became unreachable
 *   in between), those events stay `pending` and the pending sweeper delivers them.
 * - The inbox queries every shard newest first and merges them; each source is one key range
 *   (`sk BETWEEN lower AND upper`) of the base table or of the status / event type index, so no
 *   filter reads what it then discards, except a status plus event type query, which reads the
 *   status index and filters by type.
 */
export class DynamoEventStore implements EventStore {
  readonly kind = 'dynamodb';
  readonly maxAtomicBatch = MAX_TRANSACTION_ITEMS;

  constructor(private readonly table: DynamoTable) {}

  async insertEvents(events: NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    const ids = new Set<string>();
    for (const event of events) {
      if (ids.has(event.eventId)) throw new DependencyError('dynamodb', `inserting events failed: the batch repeats event id ${event.eventId}`, { retryable: false });
      ids.add(event.eventId);
    }
    const chunks = this.transactionChunks(events);
    const results = await Promise.allSettled(chunks.map((chunk) => this.insertChunk(chunk)));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (!failure) return;
    const written = chunks.filter((_, i) => results[i].status === 'fulfilled');
    // Best effort: nobody has seen these ids yet (they are enqueued only after this resolves).
    await Promise.allSettled(written.map((chunk) => this.deleteChunk(chunk)));
    throw failure.reason;
  }

  async getEvent(customerId: string, eventId: string): Promise<StoredEvent | null> {
    if (!isEventId(eventId)) return null;
    const { Item } = await this.table.run('reading an event', () =>
      this.table.doc.send(new GetCommand({ TableName: this.table.name, Key: { pk: this.table.eventPk(customerId, eventId), sk: eventId }, ConsistentRead: true })),
    );
    return Item && Item.customer_id === customerId ? toStoredEvent(Item) : null;
  }

  async listEvents(customerId: string, query: InboxQuery): Promise<InboxPage> {
    const limit = checkPageLimit(query.limit);
    const lower = query.startTime !== undefined ? uuidv7LowerBound(query.startTime) : '0';
    // The end time, the cursor and the attempts' prefix are all exclusive upper bounds: the tightest wins.
    const uppers = [ABOVE_EVENT_IDS];
    if (query.endTime !== undefined) uppers.push(uuidv7LowerBound(query.endTime));
    if (query.cursor !== undefined) uppers.push(decodeCursor(query.cursor, isInboxCursor).before);
    const upper = uppers.reduce((a, b) => (a < b ? a : b));
    if (upper <= lower) return { events: [], nextCursor: null };

    const readers = Array.from({ length: this.table.shards }, (_, shard) => new ShardReader(this.table, this.inboxQuery(customerId, shard, query, lower, upper), upper));
    const wanted = limit + 1; // one more than the page tells whether another page follows
    const firstChunk = Math.min(wanted, Math.ceil(wanted / readers.length) + 1);
    const items: Item[] = [];
    await Promise.all(readers.map((r) => r.fill(firstChunk)));
    while (items.length < wanted) {
      const empty = readers.filter((r) => r.needsFill());
      if (empty.length > 0) await Promise.all(empty.map((r) => r.fill(wanted - items.length)));
      let newest: ShardReader | undefined;
      for (const r of readers) {
        const head = r.head();
        if (head && (!newest || (head.sk as string) > (newest.head()!.sk as string))) newest = r;
      }
      if (!newest) break;
      items.push(newest.take());
    }
    const hasMore = items.length > limit;
    const events = (hasMore ? items.slice(0, limit) : items).map(toStoredEvent);
    return { events, nextCursor: hasMore ? encodeCursor({ before: events[events.length - 1].eventId } satisfies InboxCursor) : null };
  }

  async setStatus(customerId: string, eventId: string, status: EventStatus, onlyFrom?: EventStatus[]): Promise<boolean> {
    if (!isEventId(eventId)) return false;
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = { ':status': status };
    const conditions = ['attribute_exists(sk)', '#status <> :status'];
    if (onlyFrom !== undefined) {
      const from = [...new Set(onlyFrom)].filter((s) => (EVENT_STATUSES as readonly string[]).includes(s));
      if (from.length === 0) return false;
      from.forEach((s, i) => (values[`:from${i}`] = s));
      conditions.push(`#status IN (${from.map((_, i) => `:from${i}`).join(', ')})`);
    }
    const pk = this.table.eventPk(customerId, eventId);
    values[':pkStatus'] = `${pk}#${status}`;
    const key = { pk, sk: eventId };
    const update = (expression: string, extraCondition: string | null, extraValues: Record<string, unknown>) =>
      this.table.run('setting an event status', async () => {
        try {
          await this.table.doc.send(
            new UpdateCommand({
              TableName: this.table.name,
              Key: key,
              UpdateExpression: expression,
              ConditionExpression: [...conditions, ...(extraCondition ? [extraCondition] : [])].join(' AND '),
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: { ...values, ...extraValues },
            }),
          );
          return true;
        } catch (thrown) {
          if (isConditionFailed(thrown)) return false;
          throw thrown;
        }
      });

    if (status !== 'pending') return update('SET #status = :status, pk_status = :pkStatus REMOVE sweep_pk', null, {});
    // Back to pending (a replay): rejoin the sweeper's index under the key that says whether the
    // event already has deliveries. Two conditional writes, since one update cannot branch.
    const bucket = this.table.bucketOf(eventId);
    const set = 'SET #status = :status, pk_status = :pkStatus, sweep_pk = :sweep';
    if (await update(set, '(attribute_not_exists(dlv_total) OR dlv_total = :zero)', { ':sweep': `new#${bucket}`, ':zero': 0 })) return true;
    return update(set, 'dlv_total > :zero', { ':sweep': `dlv#${bucket}`, ':zero': 0 });
  }

  async listAttempts(customerId: string, eventId: string): Promise<DeliveryAttempt[]> {
    if (!isEventId(eventId)) return [];
    const items = await this.table.run('listing delivery attempts', () =>
      queryAll(this.table.doc, {
        TableName: this.table.name,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': this.table.eventPk(customerId, eventId), ':prefix': `${ATTEMPT_PREFIX}${eventId}#` },
        ConsistentRead: true,
      }),
    );
    return items.filter((i) => i.customer_id === customerId).map(toAttempt);
  }

  async listStalePending(olderThan: number, limit: number): Promise<StoredEvent[]> {
    const max = Math.max(0, Math.floor(limit));
    if (max === 0) return [];
    const keys = Array.from({ length: SWEEP_BUCKETS }, (_, b) => [`new#${b}`, `dlv#${b}`]).flat();
    const lists = await this.table.run('listing stale pending events', () =>
      mapLimit(keys, 8, (key) =>
        queryAll(
          this.table.doc,
          {
            TableName: this.table.name,
            IndexName: INDEX.sweep,
            KeyConditionExpression: 'sweep_pk = :key AND ts < :before',
            ExpressionAttributeValues: { ':key': key, ':before': olderThan },
          },
          max,
        ),
      ),
    );
    return mergeSorted(lists, (a, b) => (a.ts as number) - (b.ts as number) || ((a.sk as string) < (b.sk as string) ? -1 : 1), max).map(toStoredEvent);
  }

  async ping(): Promise<void> {
    await this.table.run('ping', () => this.table.doc.send(new GetCommand({ TableName: this.table.name, Key: { pk: '~ping', sk: '~ping' } })));
  }

  /** The client is shared with the delivery store; openDynamoBackends closes it. */
  async close(): Promise<void> {}

  private eventItem(event: NewEvent): Item {
    const pk = this.table.eventPk(event.customerId, event.eventId);
    return {
      pk,
      sk: event.eventId,
      customer_id: event.customerId,
      ...(event.eventType !== null ? { event_type: event.eventType, pk_type: typeKey(pk, event.eventType) } : {}),
      payload: event.payload.text,
      status: 'pending',
      pk_status: `${pk}#pending`,
      sweep_pk: `new#${this.table.bucketOf(event.eventId)}`,
      ts: event.timestamp,
      delivery_attempts: 0,
      expires_at: this.table.expiresAt(event.timestamp),
    };
  }

  /** Up to 100 events and about 3.5 MB (of DynamoDB's 4 MB) per transaction. */
  private transactionChunks(events: NewEvent[]): Item[][] {
    const chunks: Item[][] = [];
    let current: Item[] = [];
    let bytes = 0;
    for (const event of events) {
      const item = this.eventItem(event);
      const size = Buffer.byteLength(JSON.stringify(item));
      if (current.length > 0 && (current.length >= MAX_TRANSACTION_ITEMS || bytes + size > MAX_TRANSACTION_BYTES)) {
        chunks.push(current);
        current = [];
        bytes = 0;
      }
      current.push(item);
      bytes += size;
    }
    if (current.length > 0) chunks.push(current);
    return chunks;
  }

  private async insertChunk(items: Item[]): Promise<void> {
    await this.table.run('inserting events', async () => {
      try {
        await retryConflicts(() =>
          this.table.doc.send(
            new TransactWriteCommand({
              TransactItems: items.map((Item) => ({ Put: { TableName: this.table.name, Item, ConditionExpression: 'attribute_not_exists(sk)' } })),
            }),
          ),
        );
      } catch (thrown) {
        const reasons = cancellationReasons(thrown);
        const index = reasons?.indexOf('ConditionalCheckFailed') ?? -1;
        if (index >= 0) throw new DependencyError('dynamodb', `inserting events failed: event id ${items[index].sk as string} already exists`, { retryable: false, cause: thrown });
        throw thrown;
      }
    });
  }

  private async deleteChunk(items: Item[]): Promise<void> {
    await this.table.doc.send(
      new TransactWriteCommand({ TransactItems: items.map((i) => ({ Delete: { TableName: this.table.name, Key: { pk: i.pk, sk: i.sk } } })) }),
    );
  }

  private inboxQuery(customerId: string, shard: number, query: InboxQuery, lower: string, upper: string): QueryCommandInput {
    const shardPk = this.table.shardPk(customerId, shard);
    const values: Record<string, unknown> = { ':lower': lower, ':upper': upper };
    const input: QueryCommandInput = {
      TableName: this.table.name,
      KeyConditionExpression: '#hash = :hash AND sk BETWEEN :lower AND :upper',
      ScanIndexForward: false,
      ExpressionAttributeNames: {},
      ExpressionAttributeValues: values,
    };
    if (query.status !== undefined) {
      input.IndexName = INDEX.byStatus;
      input.ExpressionAttributeNames!['#hash'] = 'pk_status';
      values[':hash'] = `${shardPk}#${query.status}`;
      if (query.eventType !== undefined) {
        input.FilterExpression = 'event_type = :eventType';
        values[':eventType'] = query.eventType;
      }
    } else if (query.eventType !== undefined) {
      input.IndexName = INDEX.byType;
      input.ExpressionAttributeNames!['#hash'] = 'pk_type';
      values[':hash'] = typeKey(shardPk, query.eventType);
      if (isLongType(query.eventType)) {
        input.FilterExpression = 'event_type = :eventType';
        values[':eventType'] = query.eventType;
      }
    } else {
      input.ExpressionAttributeNames!['#hash'] = 'pk';
      values[':hash'] = shardPk;
      // Strongly consistent: an event acknowledged before the page was asked for is on it.
      input.ConsistentRead = true;
    }
    return input;
  }
}

/** Event ids are UUIDs; anything else (an attempt's key, an empty string) names no event. */
function isEventId(eventId: string): boolean {
  return eventId.length > 0 && eventId < ABOVE_EVENT_IDS;
}

/** One shard's part of an inbox query: newest first, fetched in chunks as the merge needs them. */
class ShardReader {
  private buffer: Item[] = [];
  private position = 0;
  private startKey: Record<string, unknown> | undefined;
  private exhausted = false;

  constructor(
    private readonly table: DynamoTable,
    private readonly input: QueryCommandInput,
    /** Exclusive: `BETWEEN` includes it, so an item equal to it (the cursor's event) is skipped. */
    private readonly upper: string,
  ) {}

  needsFill(): boolean {
    return this.position >= this.buffer.length && !this.exhausted;
  }

  head(): Item | undefined {
    return this.buffer[this.position];
  }

  take(): Item {
    return this.buffer[this.position++];
  }

  /** Reads until at least one item is buffered or the range is exhausted (a filter can empty a page). */
  async fill(limit: number): Promise<void> {
    while (this.needsFill()) {
      const page = await this.table.run('listing events', () =>
        this.table.doc.send(new QueryCommand({ ...this.input, Limit: Math.max(1, limit), ExclusiveStartKey: this.startKey })),
      );
      this.buffer = (page.Items ?? []).filter((i) => (i.sk as string) < this.upper);
      this.position = 0;
      this.startKey = page.LastEvaluatedKey;
      this.exhausted = page.LastEvaluatedKey === undefined;
    }
  }
}

export function createDynamoEventStore(table: DynamoTable): DynamoEventStore {
  return new DynamoEventStore(table);
}
