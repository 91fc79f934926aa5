import { randomBytes } from 'node:crypto';
import { BatchGetCommand, GetCommand, type BatchGetCommandOutput, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { EventStatus } from '../../domain/events.ts';
import type { AttemptOutcome, DeliveryRecord, DeliveryStatus, DeliveryStore, EventRef, NewDelivery } from '../../ports/delivery-store.ts';
import { ATTEMPT_PREFIX, DELIVERY_SK, INDEX, SWEEP_BUCKETS, cancellationReasons, isConditionFailed, keyPart, retryConflicts, type DynamoTable } from './table.ts';
import { mapLimit, mergeSorted, queryAll, type Item } from './query.ts';

/** Deliveries per creating transaction, beside the one update of their event's counters. */
const DELIVERIES_PER_TRANSACTION = 99;
/** Index entries read beyond `limit` in `pendingInOrder`, for entries of deliveries finished a moment ago. */
const IN_ORDER_HEADROOM = 8;
/** Rounds of re-reading an event's counters when concurrent finishes keep changing them. */
const MAX_SETTLE_ROUNDS = 20;

function toRecord(item: Item): DeliveryRecord {
  return {
    deliveryId: item.delivery_id as string,
    eventId: item.event_id as string,
    customerId: item.customer_id as string,
    workflowId: item.workflow_id as string,
    status: item.status as DeliveryStatus,
    attemptsMade: item.attempts_made as number,
    nextAttemptAt: item.next_attempt_at as number,
    failureReason: (item.failure_reason as string | null | undefined) ?? null,
    createdAt: item.created_at as number,
    updatedAt: item.updated_at as number,
    replayId: (item.replay_id as string | null | undefined) ?? null,
  };
}

function settledStatus(counters: { total: number; open: number; succeeded: number }): EventStatus | null {
  if (counters.succeeded > 0) return 'delivered';
  if (counters.total > 0 && counters.open <= 0) return 'failed';
  return null;
}

/**
 * Deliveries on DynamoDB, in the events' table: one item per delivery keyed by its id
 * (`pk = dlv#<id>`), indexed by event (`by_event`) and, while pending, by due time (`due`).
 *
 * The event item carries counters of its deliveries (`dlv_total`, `dlv_open`, `dlv_succeeded`),
 * changed in the same transaction as the delivery they count, so they always agree with the
 * deliveries. Settling an event (`finishDelivery`) reads those counters with a consistent read and
 * writes the status derived from them with a condition that the counters are still what was read.
 * Concurrency: if another delivery of the event was created or finished in between, the condition
 * fails and the settle reads again, so a status is only ever written from the current state of
 * all the event's deliveries. Every change to that state is followed by its own settle, so the
 * last one to write sees the final state; an earlier, stale derivation can never overwrite it.
 *
 * `recordAttempts` writes each outcome in one transaction (the attempt item, the delivery's end or
 * next due time, the event's attempt and delivery counters), then settles the event as above:
 * DynamoDB has no transaction over a whole call's outcomes that could also read the counters.
 */
export class DynamoDeliveryStore implements DeliveryStore {
  readonly kind = 'dynamodb';

  constructor(private readonly table: DynamoTable) {}

  async createDeliveries(deliveries: NewDelivery[]): Promise<DeliveryRecord[]> {
    if (deliveries.length === 0) return [];
    const unique = [...new Map(deliveries.map((d) => [d.deliveryId, d])).values()];
    const byEvent = new Map<string, NewDelivery[]>();
    for (const d of unique) {
      const key = `${d.customerId}\n${d.eventId}`;
      byEvent.set(key, [...(byEvent.get(key) ?? []), d]);
    }
    const created = new Map<string, DeliveryRecord>();
    await this.table.run('creating deliveries', () =>
      mapLimit([...byEvent.values()], 4, async (group) => {
        let eventExists = true;
        for (let i = 0; i < group.length; i += DELIVERIES_PER_TRANSACTION) {
          const result = await this.createChunk(group.slice(i, i + DELIVERIES_PER_TRANSACTION));
          for (const record of result.created) created.set(record.deliveryId, record);
          eventExists &&= result.eventExists;
        }
        if (eventExists && group.some((d) => created.has(d.deliveryId))) await this.markMatched(group[0].customerId, group[0].eventId);
      }),
    );
    const existing = await this.readMany(unique.filter((d) => !created.has(d.deliveryId)).map((d) => d.deliveryId));
    return unique.map((d) => created.get(d.deliveryId) ?? existing.get(d.deliveryId)).filter((r): r is DeliveryRecord => r !== undefined);
  }

  async getDelivery(deliveryId: string): Promise<DeliveryRecord | null> {
    const item = await this.readItem(deliveryId);
    return item ? toRecord(item) : null;
  }

  async listDeliveries(customerId: string, eventId: string): Promise<DeliveryRecord[]> {
    const items = await this.table.run('listing deliveries', () =>
      queryAll(this.table.doc, {
        TableName: this.table.name,
        IndexName: INDEX.byEvent,
        KeyConditionExpression: 'dlv_event = :event',
        ExpressionAttributeValues: { ':event': `${keyPart(customerId)}#${eventId}` },
      }),
    );
    return items
      .filter((i) => i.customer_id === customerId)
      .map(toRecord)
      .sort((a, b) => a.createdAt - b.createdAt || (a.deliveryId < b.deliveryId ? -1 : a.deliveryId > b.deliveryId ? 1 : 0));
  }

  async incrementAttempts(deliveryId: string, expected: number, now: number, claimUntil?: number): Promise<boolean> {
    return this.table.run('claiming an attempt', async () => {
      try {
        await this.table.doc.send(
          new UpdateCommand({
            TableName: this.table.name,
            Key: this.key(deliveryId),
            UpdateExpression: `SET attempts_made = attempts_made + :one, updated_at = :now${claimUntil !== undefined ? ', next_attempt_at = :claimUntil' : ''}`,
            ConditionExpression: 'attempts_made = :expected AND #status = :pending',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':one': 1,
              ':now': now,
              ':expected': expected,
              ':pending': 'pending',
              ...(claimUntil !== undefined ? { ':claimUntil': claimUntil } : {}),
            },
          }),
        );
        return true;
      } catch (thrown) {
        if (isConditionFailed(thrown)) return false;
        throw thrown;
      }
    });
  }

  async scheduleNextAttempt(deliveryId: string, nextAttemptAt: number): Promise<void> {
    await this.table.run('scheduling the next attempt', async () => {
      try {
        await this.table.doc.send(
          new UpdateCommand({
            TableName: this.table.name,
            Key: this.key(deliveryId),
            UpdateExpression: 'SET next_attempt_at = :at, updated_at = :now',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeValues: { ':at': nextAttemptAt, ':now': Date.now() },
          }),
        );
      } catch (thrown) {
        if (!isConditionFailed(thrown)) throw thrown; // an unknown delivery: nothing to schedule
      }
    });
  }

  async finishDelivery(deliveryId: string, outcome: { status: 'succeeded' | 'failed'; reason?: string; now: number }): Promise<{ eventStatus: EventStatus } | null> {
    return this.table.run('finishing a delivery', async () => {
      const item = await this.readItem(deliveryId);
      if (!item) return null;
      const delivery = toRecord(item);
      const eventKey = { pk: this.table.eventPk(delivery.customerId, delivery.eventId), sk: delivery.eventId };
      if (delivery.status === 'pending') {
        const finish = {
          TableName: this.table.name,
          Key: this.key(deliveryId),
          UpdateExpression: 'SET #status = :status, failure_reason = :reason, updated_at = :now REMOVE due_pk, order_wf',
          ConditionExpression: '#status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':status': outcome.status, ':reason': outcome.reason ?? null, ':now': outcome.now, ':pending': 'pending' },
        };
        const count = {
          TableName: this.table.name,
          Key: eventKey,
          UpdateExpression: 'ADD dlv_open :minusOne, dlv_succeeded :succeeded',
          ConditionExpression: 'attribute_exists(dlv_total)',
          ExpressionAttributeValues: { ':minusOne': -1, ':succeeded': outcome.status === 'succeeded' ? 1 : 0 },
        };
        try {
          await retryConflicts(() => this.table.doc.send(new TransactWriteCommand({ TransactItems: [{ Update: finish }, { Update: count }] })));
        } catch (thrown) {
          const reasons = cancellationReasons(thrown);
          if (reasons?.[0] === 'ConditionalCheckFailed') return { eventStatus: await this.eventStatus(eventKey) }; // finished meanwhile
          if (reasons?.[1] !== 'ConditionalCheckFailed') throw thrown;
          // The event is gone (or predates its counters): finish the delivery alone.
          try {
            await this.table.doc.send(new UpdateCommand(finish));
          } catch (error) {
            if (!isConditionFailed(error)) throw error;
          }
          return { eventStatus: await this.eventStatus(eventKey) };
        }
      }
      // Also when it was finished already: the settle then writes nothing, unless a crash between
      // an earlier finish and its settle left the status behind the counters, which it repairs.
      return { eventStatus: await this.settle(eventKey) };
    });
  }

  async recordAttempts(outcomes: AttemptOutcome[]): Promise<Array<{ eventStatus: EventStatus } | null>> {
    if (outcomes.length === 0) return [];
    return this.table.run('recording delivery attempts', () => mapLimit(outcomes, 8, (o) => this.recordOne(o)));
  }

  async settleUnmatched(events: EventRef[]): Promise<void> {
    if (events.length === 0) return;
    await this.table.run('settling unmatched events', () =>
      mapLimit(events, 8, async (e) => {
        const pk = this.table.eventPk(e.customerId, e.eventId);
        try {
          await this.table.doc.send(
            new UpdateCommand({
              TableName: this.table.name,
              Key: { pk, sk: e.eventId },
              UpdateExpression: 'SET #status = :unmatched, pk_status = :pkStatus REMOVE sweep_pk',
              // customer_id: the key's shard hash could in theory be shared by another customer's key.
              ConditionExpression: 'attribute_exists(sk) AND customer_id = :customer AND #status = :pending AND (attribute_not_exists(dlv_total) OR dlv_total = :zero)',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':unmatched': 'unmatched', ':pkStatus': `${pk}#unmatched`, ':customer': e.customerId, ':pending': 'pending', ':zero': 0 },
            }),
          );
        } catch (thrown) {
          if (!isConditionFailed(thrown)) throw thrown; // settled, matched, or not this customer's
        }
      }),
    );
  }

  async listOverdue(now: number, graceMs: number, limit: number) {
    const max = Math.max(0, Math.floor(limit));
    const bound = now - graceMs;
    if (max === 0) return { deliveries: [], eventsWithoutDeliveries: [] };
    const buckets = Array.from({ length: SWEEP_BUCKETS }, (_, b) => b);
    const [due, stranded] = await this.table.run('listing overdue work', () =>
      Promise.all([
        mapLimit(buckets, 8, (b) =>
          queryAll(
            this.table.doc,
            {
              TableName: this.table.name,
              IndexName: INDEX.due,
              KeyConditionExpression: 'due_pk = :key AND next_attempt_at < :bound',
              ExpressionAttributeValues: { ':key': `due#${b}`, ':bound': bound },
            },
            max,
          ),
        ),
        mapLimit(buckets, 8, (b) =>
          queryAll(
            this.table.doc,
            {
              TableName: this.table.name,
              IndexName: INDEX.sweep,
              KeyConditionExpression: 'sweep_pk = :key AND ts < :bound',
              ExpressionAttributeValues: { ':key': `new#${b}`, ':bound': bound },
            },
            max,
          ),
        ),
      ]),
    );
    return {
      deliveries: mergeSorted(due, (a, b) => (a.next_attempt_at as number) - (b.next_attempt_at as number), max).map(toRecord),
      eventsWithoutDeliveries: mergeSorted(stranded, (a, b) => (a.ts as number) - (b.ts as number), max).map((i) => ({
        eventId: i.sk as string,
        customerId: i.customer_id as string,
      })),
    };
  }

  /**
   * From the `in_order` index (eventually consistent), confirmed by consistent reads: an entry of a
   * delivery finished a moment ago is dropped, so the head is never one already done. (A delivery
   * created in the last moment may be missing from the index: DynamoDB's index lag, usually well
   * under a second, is the window in which a FIFO subscription could pass it; docs/backends.md.)
   */
  async pendingInOrder(workflowId: string, limit: number): Promise<DeliveryRecord[]> {
    const max = Math.max(0, Math.floor(limit));
    if (max === 0 || workflowId.length === 0) return [];
    const listed = await this.table.run('listing pending deliveries in order', () =>
      queryAll(
        this.table.doc,
        { TableName: this.table.name, IndexName: INDEX.inOrder, KeyConditionExpression: 'order_wf = :wf', ExpressionAttributeValues: { ':wf': workflowId } },
        max + IN_ORDER_HEADROOM,
      ),
    );
    const current = await this.readMany(listed.map((i) => i.delivery_id as string));
    return listed
      .map((i) => current.get(i.delivery_id as string))
      .filter((d): d is DeliveryRecord => d !== undefined && d.status === 'pending')
      .slice(0, max);
  }

  async ping(): Promise<void> {
    await this.table.run('ping', () => this.table.doc.send(new GetCommand({ TableName: this.table.name, Key: { pk: '~ping', sk: '~ping' } })));
  }

  /** The client is shared with the event store; openDynamoBackends closes it. */
  async close(): Promise<void> {}

  private key(deliveryId: string) {
    return { pk: `dlv#${deliveryId}`, sk: DELIVERY_SK };
  }

  private deliveryItem(d: NewDelivery): Item {
    return {
      ...this.key(d.deliveryId),
      delivery_id: d.deliveryId,
      event_id: d.eventId,
      customer_id: d.customerId,
      workflow_id: d.workflowId,
      status: 'pending',
      attempts_made: 0,
      next_attempt_at: d.createdAt,
      created_at: d.createdAt,
      updated_at: d.createdAt,
      dlv_event: `${keyPart(d.customerId)}#${d.eventId}`,
      due_pk: `due#${this.table.bucketOf(d.deliveryId)}`,
      order_wf: d.workflowId,
      order_key: `${d.eventId}#${d.deliveryId}`,
      expires_at: this.table.expiresAt(d.createdAt),
      ...(d.replayId ? { replay_id: d.replayId } : {}),
    };
  }

  /**
   * Creates the deliveries of one event that do not exist yet, and counts them on the event, in
   * one transaction. Existing ones (a redelivered `events` message) are left as they are.
   */
  private async createChunk(chunk: NewDelivery[]): Promise<{ created: DeliveryRecord[]; eventExists: boolean }> {
    let pending = chunk;
    let eventExists = true;
    const { customerId, eventId } = chunk[0];
    while (pending.length > 0) {
      const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = pending.map((d) => ({
        Put: { TableName: this.table.name, Item: this.deliveryItem(d), ConditionExpression: 'attribute_not_exists(pk)' },
      }));
      if (eventExists) {
        items.push({
          Update: {
            TableName: this.table.name,
            Key: { pk: this.table.eventPk(customerId, eventId), sk: eventId },
            UpdateExpression: 'ADD dlv_total :n, dlv_open :n, dlv_succeeded :zero',
            ConditionExpression: 'attribute_exists(sk)',
            ExpressionAttributeValues: { ':n': pending.length, ':zero': 0 },
          },
        });
      }
      try {
        await retryConflicts(() => this.table.doc.send(new TransactWriteCommand({ TransactItems: items })));
        return { created: pending.map((d) => toRecord(this.deliveryItem(d))), eventExists };
      } catch (thrown) {
        const reasons = cancellationReasons(thrown);
        if (!reasons) throw thrown;
        const exists = new Set(pending.filter((_, i) => reasons[i] === 'ConditionalCheckFailed').map((d) => d.deliveryId));
        const eventMissing = eventExists && reasons[pending.length] === 'ConditionalCheckFailed';
        if (exists.size === 0 && !eventMissing) throw thrown;
        pending = pending.filter((d) => !exists.has(d.deliveryId));
        if (eventMissing) eventExists = false;
      }
    }
    return { created: [], eventExists };
  }

  /**
   * One outcome in one transaction: the attempt, the delivery's change and the event's counters.
   * Parts whose condition no longer holds are left out and the rest written: a delivery finished
   * meanwhile (or re-claimed, for a retry) keeps its state; an event with a newer attempt keeps its
   * `last_delivery_ts`; an event that is gone is not counted.
   */
  private async recordOne(outcome: AttemptOutcome): Promise<{ eventStatus: EventStatus } | null> {
    const item = await this.readItem(outcome.deliveryId);
    if (!item) return null;
    const delivery = toRecord(item);
    const a = outcome.attempt;
    const eventKey = { pk: this.table.eventPk(delivery.customerId, delivery.eventId), sk: delivery.eventId };
    const next = outcome.next;
    const finishing = next.status !== 'retrying';
    const put = {
      Put: {
        TableName: this.table.name,
        Item: {
          pk: eventKey.pk,
          sk: `${ATTEMPT_PREFIX}${a.eventId}#${String(a.timestamp).padStart(15, '0')}#${randomBytes(6).toString('hex')}`,
          customer_id: a.customerId,
          event_id: a.eventId,
          workflow_id: a.workflowId,
          delivery_id: a.deliveryId,
          attempt: a.attempt,
          status: a.status,
          status_code: a.statusCode,
          error: a.error,
          duration_ms: a.durationMs,
          attempt_ts: a.timestamp,
          response_body: a.responseBody,
          expires_at: this.table.expiresAt(a.timestamp),
        },
        ConditionExpression: 'attribute_not_exists(sk)',
      },
    };
    const change = finishing
      ? {
          Update: {
            TableName: this.table.name,
            Key: this.key(outcome.deliveryId),
            UpdateExpression: 'SET #status = :status, failure_reason = :reason, updated_at = :now REMOVE due_pk, order_wf',
            ConditionExpression: '#status = :pending',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':status': next.status, ':reason': next.status === 'failed' ? next.reason : null, ':now': outcome.now, ':pending': 'pending' },
          },
        }
      : {
          Update: {
            TableName: this.table.name,
            Key: this.key(outcome.deliveryId),
            UpdateExpression: 'SET next_attempt_at = :at, updated_at = :now',
            ConditionExpression: '#status = :pending AND attempts_made = :attempt',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':at': next.nextAttemptAt, ':now': outcome.now, ':pending': 'pending', ':attempt': a.attempt },
          },
        };
    const count = (withChange: boolean, withLastTimestamp: boolean) => {
      const add = ['delivery_attempts :one'];
      const values: Record<string, unknown> = { ':one': 1 };
      let condition = 'attribute_exists(sk)';
      if (withChange && finishing) {
        add.push('dlv_open :minusOne', 'dlv_succeeded :succeeded');
        values[':minusOne'] = -1;
        values[':succeeded'] = next.status === 'succeeded' ? 1 : 0;
        condition += ' AND attribute_exists(dlv_total)';
      }
      let expression = `ADD ${add.join(', ')}`;
      if (withLastTimestamp) {
        expression += ' SET last_delivery_ts = :ts';
        values[':ts'] = a.timestamp;
        // The newest attempt's time wins; an older one recorded late only counts.
        condition += ' AND (attribute_not_exists(last_delivery_ts) OR last_delivery_ts <= :ts)';
      }
      return { Update: { TableName: this.table.name, Key: eventKey, UpdateExpression: expression, ConditionExpression: condition, ExpressionAttributeValues: values } };
    };
    let withChange = true;
    let withLastTimestamp = true;
    let withEvent = true;
    for (let round = 0; round < 4; round++) {
      const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [put];
      if (withChange) items.push(change);
      if (withEvent) items.push(count(withChange, withLastTimestamp));
      try {
        await retryConflicts(() => this.table.doc.send(new TransactWriteCommand({ TransactItems: items })));
        break;
      } catch (thrown) {
        const reasons = cancellationReasons(thrown);
        if (!reasons) throw thrown;
        const changeFailed = withChange && reasons[1] === 'ConditionalCheckFailed';
        const eventFailed = withEvent && reasons[withChange ? 2 : 1] === 'ConditionalCheckFailed';
        if (!changeFailed && !eventFailed) throw thrown;
        if (changeFailed) withChange = false;
        else if (withLastTimestamp) withLastTimestamp = false;
        else withEvent = false;
      }
    }
    if (!finishing) return { eventStatus: await this.eventStatus(eventKey) };
    // Also when the delivery had been finished already: the settle then writes nothing, unless a
    // crash between an earlier finish and its settle left the status behind the counters.
    return { eventStatus: await this.settle(eventKey) };
  }

  /** The event has deliveries now: the sweeper no longer counts it as stranded. */
  private async markMatched(customerId: string, eventId: string): Promise<void> {
    const bucket = this.table.bucketOf(eventId);
    try {
      await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: { pk: this.table.eventPk(customerId, eventId), sk: eventId },
          UpdateExpression: 'SET sweep_pk = :matched',
          ConditionExpression: 'sweep_pk = :stranded',
          ExpressionAttributeValues: { ':matched': `dlv#${bucket}`, ':stranded': `new#${bucket}` },
        }),
      );
    } catch (thrown) {
      if (!isConditionFailed(thrown)) throw thrown; // not pending, or already marked
    }
  }

  /** Derives the event's status from its delivery counters and writes it if they did not change meanwhile. */
  private async settle(eventKey: { pk: string; sk: string }): Promise<EventStatus> {
    for (let round = 0; round < MAX_SETTLE_ROUNDS; round++) {
      const { Item } = await this.table.doc.send(new GetCommand({ TableName: this.table.name, Key: eventKey, ConsistentRead: true }));
      if (!Item) return 'pending';
      const counters = { total: (Item.dlv_total as number) ?? 0, open: (Item.dlv_open as number) ?? 0, succeeded: (Item.dlv_succeeded as number) ?? 0 };
      const status = Item.status as EventStatus;
      const settled = settledStatus(counters);
      if (settled === null || settled === status) return status;
      try {
        await this.table.doc.send(
          new UpdateCommand({
            TableName: this.table.name,
            Key: eventKey,
            UpdateExpression: 'SET #status = :status, pk_status = :pkStatus REMOVE sweep_pk',
            ConditionExpression: 'dlv_total = :total AND dlv_open = :open AND dlv_succeeded = :succeeded',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':status': settled,
              ':pkStatus': `${eventKey.pk}#${settled}`,
              ':total': counters.total,
              ':open': counters.open,
              ':succeeded': counters.succeeded,
            },
          }),
        );
        return settled;
      } catch (thrown) {
        if (!isConditionFailed(thrown)) throw thrown;
      }
    }
    throw new Error('the event\'s deliveries kept changing while settling its status');
  }

  private async eventStatus(eventKey: { pk: string; sk: string }): Promise<EventStatus> {
    const { Item } = await this.table.doc.send(new GetCommand({ TableName: this.table.name, Key: eventKey, ConsistentRead: true, ProjectionExpression: '#status', ExpressionAttributeNames: { '#status': 'status' } }));
    return (Item?.status as EventStatus | undefined) ?? 'pending';
  }

  private async readItem(deliveryId: string): Promise<Item | null> {
    if (deliveryId.length === 0) return null;
    const { Item } = await this.table.run('reading a delivery', () =>
      this.table.doc.send(new GetCommand({ TableName: this.table.name, Key: this.key(deliveryId), ConsistentRead: true })),
    );
    return Item ?? null;
  }

  private async readMany(deliveryIds: string[]): Promise<Map<string, DeliveryRecord>> {
    const found = new Map<string, DeliveryRecord>();
    for (let i = 0; i < deliveryIds.length; i += 100) {
      let keys: Record<string, unknown>[] | undefined = deliveryIds.slice(i, i + 100).map((id) => this.key(id));
      for (let round = 0; keys && keys.length > 0; round++) {
        const requested: Record<string, unknown>[] = keys;
        const page: BatchGetCommandOutput = await this.table.run('reading deliveries', () =>
          this.table.doc.send(new BatchGetCommand({ RequestItems: { [this.table.name]: { Keys: requested, ConsistentRead: true } } })),
        );
        for (const item of page.Responses?.[this.table.name] ?? []) found.set(item.delivery_id as string, toRecord(item));
        keys = page.UnprocessedKeys?.[this.table.name]?.Keys;
        if (keys && keys.length > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** round)));
      }
    }
    return found;
  }
}

export function createDynamoDeliveryStore(table: DynamoTable): DynamoDeliveryStore {
  return new DynamoDeliveryStore(table);
}
