import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { awsErrorName, toAwsDependencyError } from '../aws.ts';

/**
 * One table holds events, their attempts and their deliveries (single-table design):
 *
 * | item     | pk                         | sk                                   |
 * |----------|----------------------------|--------------------------------------|
 * | event    | `<customer>#<shard>`       | `<event_id>`                         |
 * | attempt  | `<customer>#<shard>`       | `~att#<event_id>#<ts>#<random>`      |
 * | delivery | `dlv#<delivery_id>`        | `dlv`                                |
 *
 * `shard` is a stable hash of the event id modulo the configured shard count, so one customer's
 * writes spread over that many partition keys (one key takes ~1,000 writes/s). Attempts sort after
 * every event id (`~` > any hex digit), so an inbox query bounded below `g` never reads them.
 *
 * Global secondary indexes (all sparse: an item is indexed only while it has the hash attribute):
 * - `by_status`  pk_status = `<customer>#<shard>#<status>`, sk: the inbox's status filter.
 * - `by_type`    pk_type = `<customer>#<shard>#<event_type>`, sk: the inbox's event type filter.
 * - `sweep`      sweep_pk = `new#<b>` (pending, no delivery yet) or `dlv#<b>` (pending with
 *                deliveries), ts: the pending sweeper, oldest first, spread over SWEEP_BUCKETS keys.
 * - `by_event`   dlv_event = `<customer>#<event_id>`, created_at: an event's deliveries.
 * - `due`        due_pk = `due#<b>` (pending deliveries only), next_attempt_at: overdue deliveries.
 * - `in_order`   order_wf = `<workflow_id>` (pending deliveries only), order_key = `<event_id>#<delivery_id>`:
 *                a subscription's pending deliveries in event order (the head of a FIFO subscription).
 */
export const INDEX = {
  byStatus: 'by_status',
  byType: 'by_type',
  sweep: 'sweep',
  byEvent: 'by_event',
  due: 'due',
  inOrder: 'in_order',
} as const;

/** Hash keys of the sweeper's indexes: spreads their writes over this many partitions. */
export const SWEEP_BUCKETS = 16;

/** Above every event id (lower-case hex and '-'), below the attempts' `~att#` prefix. */
export const ABOVE_EVENT_IDS = 'g';
export const ATTEMPT_PREFIX = '~att#';
export const DELIVERY_SK = 'dlv';

const S = 'S' as const;
const N = 'N' as const;

const ATTRIBUTES: AttributeDefinition[] = [
  { AttributeName: 'pk', AttributeType: S },
  { AttributeName: 'sk', AttributeType: S },
  { AttributeName: 'pk_status', AttributeType: S },
  { AttributeName: 'pk_type', AttributeType: S },
  { AttributeName: 'sweep_pk', AttributeType: S },
  { AttributeName: 'ts', AttributeType: N },
  { AttributeName: 'dlv_event', AttributeType: S },
  { AttributeName: 'created_at', AttributeType: N },
  { AttributeName: 'due_pk', AttributeType: S },
  { AttributeName: 'next_attempt_at', AttributeType: N },
  { AttributeName: 'order_wf', AttributeType: S },
  { AttributeName: 'order_key', AttributeType: S },
];

function index(name: string, hash: string, range: string): GlobalSecondaryIndex {
  return {
    IndexName: name,
    KeySchema: [
      { AttributeName: hash, KeyType: 'HASH' },
      { AttributeName: range, KeyType: 'RANGE' },
    ],
    Projection: { ProjectionType: 'ALL' },
  };
}

const INDEXES: GlobalSecondaryIndex[] = [
  index(INDEX.byStatus, 'pk_status', 'sk'),
  index(INDEX.byType, 'pk_type', 'sk'),
  index(INDEX.sweep, 'sweep_pk', 'ts'),
  index(INDEX.byEvent, 'dlv_event', 'created_at'),
  index(INDEX.due, 'due_pk', 'next_attempt_at'),
  index(INDEX.inOrder, 'order_wf', 'order_key'),
];

export const TTL_ATTRIBUTE = 'expires_at';

/** FNV-1a (32 bit): stable across processes and versions, unlike anything seeded. */
export function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** `#` separates key parts: escape it (and the escape character) inside ids that could hold one. */
export function keyPart(value: string): string {
  return value.replaceAll('%', '%25').replaceAll('#', '%23');
}

/** What the event store and the delivery store share: the client, the table and its key layout. */
export class DynamoTable {
  constructor(
    readonly doc: DynamoDBDocumentClient,
    readonly name: string,
    readonly shards: number,
    readonly ttlSeconds: number,
  ) {}

  shardOf(eventId: string): number {
    return stableHash(eventId) % this.shards;
  }

  /** The partition key of an event and its attempts. */
  eventPk(customerId: string, eventId: string): string {
    return this.shardPk(customerId, this.shardOf(eventId));
  }

  shardPk(customerId: string, shard: number): string {
    return `${keyPart(customerId)}#${shard}`;
  }

  bucketOf(id: string): number {
    // A different hash input than the shard, so buckets stay even within one shard.
    return stableHash(`bucket:${id}`) % SWEEP_BUCKETS;
  }

  expiresAt(timestampMs: number): number {
    return Math.floor(timestampMs / 1000) + this.ttlSeconds;
  }

  /** Runs one SDK call, translating failures into `DependencyError`. */
  async run<T>(action: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (thrown) {
      throw toAwsDependencyError('dynamodb', action, thrown);
    }
  }
}

/**
 * Creates the table with its indexes when it is missing (PAY_PER_REQUEST), adds indexes an older
 * table lacks, waits until everything is ACTIVE, and turns on TTL. Safe when several replicas
 * start at once: a lost creation race is a `ResourceInUseException`, which means "exists".
 */
export async function ensureTable(client: DynamoDBClient, table: string, options: { timeoutMs?: number } = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  let description = await describe(client, table);
  if (!description) {
    try {
      await client.send(
        new CreateTableCommand({
          TableName: table,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: ATTRIBUTES,
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          GlobalSecondaryIndexes: INDEXES,
        }),
      );
    } catch (thrown) {
      if (awsErrorName(thrown) !== 'ResourceInUseException') throw thrown;
    }
  }
  description = await waitUntilActive(client, table, deadline);

  // One index per UpdateTable call: DynamoDB refuses more while one is being built.
  for (const wanted of INDEXES) {
    if (description.GlobalSecondaryIndexes?.some((i) => i.IndexName === wanted.IndexName)) continue;
    try {
      await client.send(
        new UpdateTableCommand({
          TableName: table,
          AttributeDefinitions: ATTRIBUTES.filter((a) => wanted.KeySchema!.some((k) => k.AttributeName === a.AttributeName)),
          GlobalSecondaryIndexUpdates: [{ Create: wanted }],
        }),
      );
    } catch (thrown) {
      // Another replica is adding it (or another index) right now: wait and look again.
      if (!['ResourceInUseException', 'LimitExceededException', 'ValidationException'].includes(awsErrorName(thrown))) throw thrown;
    }
    description = await waitUntilActive(client, table, deadline);
  }

  const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: table }));
  const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
  if (status !== 'ENABLED' && status !== 'ENABLING') {
    try {
      await client.send(new UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true } }));
    } catch (thrown) {
      // "TimeToLive is already enabled": another replica won the race.
      if (awsErrorName(thrown) !== 'ValidationException') throw thrown;
    }
  }
}

async function describe(client: DynamoDBClient, table: string): Promise<TableDescription | null> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: table }))).Table ?? null;
  } catch (thrown) {
    if (awsErrorName(thrown) === 'ResourceNotFoundException') return null;
    throw thrown;
  }
}

async function waitUntilActive(client: DynamoDBClient, table: string, deadline: number): Promise<TableDescription> {
  for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
    const description = await describe(client, table);
    const ready =
      description?.TableStatus === 'ACTIVE' &&
      (description.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE' || i.IndexStatus === undefined);
    if (ready) return description;
    if (Date.now() > deadline) throw new Error(`table ${table} did not become ACTIVE in time (status ${description?.TableStatus ?? 'missing'})`);
    await sleep(delay);
  }
}

/** The cancellation reason codes of a `TransactionCanceledException`, one per item; null for other errors. */
export function cancellationReasons(thrown: unknown): string[] | null {
  if (awsErrorName(thrown) !== 'TransactionCanceledException') return null;
  const reasons = (thrown as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
  return reasons ? reasons.map((r) => r.Code ?? 'None') : [];
}

export function isConditionFailed(thrown: unknown): boolean {
  return awsErrorName(thrown) === 'ConditionalCheckFailedException';
}

/**
 * Retries `work` while DynamoDB cancels it for a conflicting concurrent transaction on the same
 * item (real DynamoDB does that rather than queue transactions), with jittered backoff.
 */
export async function retryConflicts<T>(work: () => Promise<T>, attempts = 8): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (thrown) {
      const reasons = cancellationReasons(thrown);
      const conflict =
        awsErrorName(thrown) === 'TransactionConflictException' ||
        (reasons !== null && reasons.includes('TransactionConflict') && !reasons.includes('ConditionalCheckFailed'));
      if (!conflict || attempt >= attempts) throw thrown;
      await sleep(Math.random() * Math.min(1000, 20 * 2 ** attempt));
    }
  }
}
