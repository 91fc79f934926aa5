import { randomBytes } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import { systemClock, type Clock } from '../../clock.ts';
import type {
  OutgoingMessage,
  Queue,
  QueueCapabilities,
  QueueDepth,
  ReceivedMessage,
  ReceiveOptions,
  Topic,
} from '../../ports/queue.ts';
import { createRelaxedDurability, type SqliteDatabase } from './database.ts';
import { progressWriterOf, type ProgressWriter } from './progress-writer.ts';
import { withSqlite } from './errors.ts';
import { topicSignalsFor, type TopicSignals } from './signals.ts';

export interface SqliteQueueOptions {
  /** A message received more than this many times is dead-lettered instead of delivered again. */
  maxReceives: number;
  /** How often a waiting receiver looks for messages written by other processes. Default 25 ms. */
  pollIntervalMs?: number;
  /**
   * A receiving instance heartbeats this often (wall-clock time). Default 1000 ms. Another
   * instance whose heartbeat is older than `ownerStaleMs` (default 3000 ms) is taken for dead, and
   * the messages it had received are made visible again at once instead of after their
   * visibility timeout: a killed process's work resumes within seconds of the kill.
   */
  heartbeatMs?: number;
  ownerStaleMs?: number;
  clock?: Clock;
}

interface MessageRow {
  id: number;
  message_key: string | null;
  body: string;
  receive_count: number;
  enqueued_at: number;
  visible_at: number;
}

/**
 * A receive that skips keys seeks the due messages of each other key (`queue_messages_key_idx`)
 * while a topic holds at most this many distinct keys; above, it reads past the skipped ones.
 */
const MAX_KEYS_SOUGHT = 256;

const INSERT_MESSAGE_SQL = `
  INSERT INTO queue_messages (topic, body, message_key, enqueued_at, visible_at, receive_count, receipt, dead_lettered_at)
  VALUES (?, ?, ?, ?, ?, 0, NULL, NULL)`;

/**
 * Prepares the insert of one message; the outbox reuses it inside its own transaction. The caller
 * wakes local receivers afterwards with `topicSignalsFor(db)`.
 */
export function prepareEnqueue(db: SqliteDatabase): (topic: Topic, message: OutgoingMessage, now: number) => void {
  const statement = db.prepare(INSERT_MESSAGE_SQL);
  return (topic, message, now) => {
    const body = JSON.stringify(message.body ?? null);
    statement.run(topic, body, message.key ?? null, now, now + Math.max(0, message.delayMs ?? 0));
  };
}

/** `<id>.<random>`: the id finds the row by primary key, the random part proves this receive. */
function newReceipt(id: number): string {
  return `${id}.${randomBytes(12).toString('base64url')}`;
}

function receiptId(receipt: string): number | null {
  const dot = receipt.indexOf('.');
  if (dot <= 0) return null;
  const id = Number(receipt.slice(0, dot));
  return Number.isSafeInteger(id) && id > 0 ? id : null;
}

/**
 * The durable queue on SQLite tables. Receiving claims rows inside one `BEGIN IMMEDIATE`
 * transaction, so concurrent receivers (in this or another process) never get the same message
 * at the same time; the claim is a fresh receipt plus a `visible_at` in the future, and names
 * this instance as the message's `owner`.
 *
 * Owners: an instance that receives heartbeats its row in `queue_consumers` every `heartbeatMs`
 * and, on each beat, looks for owners whose heartbeat is older than `ownerStaleMs`: their
 * in-flight messages become visible at once (their receipts stop matching), so after a crash the
 * restarted process, or any other, takes the work over within seconds. A live owner keeps its
 * messages however long its handlers run (they extend the visibility timeout as usual); one
 * whose event loop stalls past `ownerStaleMs` loses them, which, like any redelivery, consumers
 * absorb (the deliverer's attempt claims never send one attempt twice).
 */
export class SqliteQueue implements Queue {
  readonly kind = 'sqlite';
  readonly capabilities: QueueCapabilities = { maxNativeDelayMs: Number.MAX_SAFE_INTEGER, deadLetter: true, exactDepth: true, skipKeys: true };

  private readonly maxReceives: number;
  private readonly pollIntervalMs: number;
  private readonly clock: Clock;
  private readonly signals: TopicSignals;
  private readonly enqueue: (topic: Topic, message: OutgoingMessage, now: number) => void;
  private readonly enqueueAll: (topic: Topic, messages: OutgoingMessage[], now: number) => void;
  private readonly selectNextVisibleAt: Statement<[Topic], { next: number | null }>;
  private readonly selectVisible: Statement<[Topic, number, number], MessageRow>;
  private readonly selectVisibleSkipping: Statement<[Topic, number, string, number], MessageRow>;
  private readonly selectFirstKey: Statement<[Topic], { key: string }>;
  private readonly selectNextKey: Statement<[Topic, string], { key: string }>;
  private readonly selectVisibleOfKey: Statement<[Topic, string, number, number], MessageRow>;
  private readonly selectVisibleKeyless: Statement<[Topic, number, number], MessageRow>;
  private readonly markReceived: Statement<[string, number, string, number]>;
  private readonly markDeadLettered: Statement<[number, string, number]>;
  private readonly claim: (topic: Topic, options: ReceiveOptions, now: number) => ReceivedMessage[];
  private readonly deleteByReceipt: Statement<[number, string]>;
  private readonly releaseByReceipt: Statement<[number, number, string]>;
  private readonly extendByReceipt: Statement<[number, number, string]>;
  private readonly selectDeadLetters: Statement<[Topic, number], Omit<MessageRow, 'visible_at'> & { receipt: string }>;
  private readonly selectDepth: Statement<[number, number, number, Topic], { visible: number | null; delayed: number | null; in_flight: number | null }>;
  private readonly countDeadLetters: Statement<[Topic], { n: number }>;
  private readonly selectOne: Statement<[], unknown>;
  private readonly relaxed: <T>(work: () => T) => T;
  private readonly writer: ProgressWriter;
  private readonly beat: (consumerId: string, at: number) => void;
  private readonly selectStaleOwners: Statement<[number, string], { consumer_id: string }>;
  private readonly reclaimOwner: (owner: string, now: number) => number;
  private readonly heartbeatMs: number;
  private readonly ownerStaleMs: number;
  /** This instance's name as an owner of received messages. */
  readonly consumerId = `c-${randomBytes(9).toString('base64url')}`;
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(db: SqliteDatabase, options: SqliteQueueOptions) {
    if (!Number.isInteger(options.maxReceives) || options.maxReceives < 1) throw new RangeError('maxReceives must be a whole number >= 1');
    this.maxReceives = options.maxReceives;
    this.pollIntervalMs = Math.max(1, options.pollIntervalMs ?? 25);
    this.heartbeatMs = Math.max(10, options.heartbeatMs ?? 1000);
    this.ownerStaleMs = Math.max(this.heartbeatMs * 2, options.ownerStaleMs ?? 3000);
    this.clock = options.clock ?? systemClock;
    this.signals = topicSignalsFor(db);
    this.relaxed = createRelaxedDurability(db);
    this.writer = progressWriterOf(db);
    this.enqueue = prepareEnqueue(db);
    const enqueueMany = db.transaction((topic: Topic, messages: OutgoingMessage[], now: number) => {
      for (const message of messages) this.enqueue(topic, message, now);
    });
    this.enqueueAll = (topic, messages, now) => enqueueMany.immediate(topic, messages, now);

    this.selectNextVisibleAt = db.prepare(`
      SELECT MIN(visible_at) AS next FROM queue_messages WHERE topic = ? AND dead_lettered_at IS NULL`);
    this.selectVisible = db.prepare(`
      SELECT id, message_key, body, receive_count, enqueued_at, visible_at FROM queue_messages INDEXED BY queue_messages_ready_idx
       WHERE topic = ? AND dead_lettered_at IS NULL AND visible_at <= ?
       ORDER BY visible_at, id LIMIT ?`);
    // With many keys: skipped keys' rows are read and passed over (a backlog of one key costs a
    // scan, not a receive each).
    this.selectVisibleSkipping = db.prepare(`
      SELECT id, message_key, body, receive_count, enqueued_at, visible_at FROM queue_messages INDEXED BY queue_messages_ready_idx
       WHERE topic = ? AND dead_lettered_at IS NULL AND visible_at <= ?
         AND (message_key IS NULL OR message_key NOT IN (SELECT value FROM json_each(?)))
       ORDER BY visible_at, id LIMIT ?`);
    // With few keys: one seek per key (a loose index scan), then each kept key's due messages.
    this.selectFirstKey = db.prepare(`
      SELECT message_key AS key FROM queue_messages INDEXED BY queue_messages_key_idx
       WHERE topic = ? AND dead_lettered_at IS NULL AND message_key IS NOT NULL ORDER BY message_key LIMIT 1`);
    this.selectNextKey = db.prepare(`
      SELECT message_key AS key FROM queue_messages INDEXED BY queue_messages_key_idx
       WHERE topic = ? AND dead_lettered_at IS NULL AND message_key > ? ORDER BY message_key LIMIT 1`);
    this.selectVisibleOfKey = db.prepare(`
      SELECT id, message_key, body, receive_count, enqueued_at, visible_at FROM queue_messages INDEXED BY queue_messages_key_idx
       WHERE topic = ? AND dead_lettered_at IS NULL AND message_key = ? AND visible_at <= ?
       ORDER BY visible_at, id LIMIT ?`);
    this.selectVisibleKeyless = db.prepare(`
      SELECT id, message_key, body, receive_count, enqueued_at, visible_at FROM queue_messages INDEXED BY queue_messages_key_idx
       WHERE topic = ? AND dead_lettered_at IS NULL AND message_key IS NULL AND visible_at <= ?
       ORDER BY visible_at, id LIMIT ?`);
    this.markReceived = db.prepare('UPDATE queue_messages SET receipt = ?, visible_at = ?, receive_count = receive_count + 1, owner = ? WHERE id = ?');
    this.markDeadLettered = db.prepare('UPDATE queue_messages SET dead_lettered_at = ?, receipt = ?, owner = NULL WHERE id = ?');
    // Runs in the progress writer's group (a savepoint of its transaction), see `receive`.
    this.claim = (topic: Topic, options: ReceiveOptions, now: number) => {
      const received: ReceivedMessage[] = [];
      const invisibleUntil = now + Math.max(0, options.visibilityTimeoutMs);
      const skipped = new Set(options.skipKeys);
      // Room left per key in this receive; a key out of room joins the skipped ones.
      const keyRoom = options.keyRoom;
      const room = keyRoom ? new Map(keyRoom.keys) : undefined;
      if (room) for (const [key, left] of room) if (left <= 0) skipped.add(key);
      const roomOf = room && keyRoom ? (key: string) => room.get(key) ?? keyRoom.perKey : undefined;
      while (received.length < options.maxMessages) {
        const limit = options.maxMessages - received.length;
        const rows = skipped.size === 0 ? this.selectVisible.all(topic, now, limit) : this.selectVisibleExcept(topic, now, skipped, limit, roomOf);
        if (rows.length === 0) break;
        const more = rows.length === limit;
        // Rows of a key that ran out of room during this loop: its key is skipped in the next query.
        let passedOver = false;
        for (const row of rows) {
          if (row.message_key !== null && skipped.has(row.message_key)) {
            passedOver = true;
            continue;
          }
          if (row.receive_count >= this.maxReceives) {
            this.markDeadLettered.run(now, newReceipt(row.id), row.id);
            continue;
          }
          if (room && roomOf && row.message_key !== null) {
            const left = roomOf(row.message_key) - 1;
            room.set(row.message_key, left);
            if (left <= 0) skipped.add(row.message_key);
          }
          const receipt = newReceipt(row.id);
          this.markReceived.run(receipt, invisibleUntil, this.consumerId, row.id);
          received.push({ id: String(row.id), receipt, body: JSON.parse(row.body), receiveCount: row.receive_count + 1, enqueuedAt: row.enqueued_at });
        }
        // Each pass claims or dead-letters a row, or skips another key from now on: the loop ends.
        if (passedOver) continue;
        // Fewer than asked for: that was every due message (those taken are now invisible).
        if (!more) break;
      }
      return received;
    };

    this.deleteByReceipt = db.prepare('DELETE FROM queue_messages WHERE id = ? AND receipt = ?');
    this.releaseByReceipt = db.prepare(
      'UPDATE queue_messages SET visible_at = ?, receipt = NULL, owner = NULL WHERE id = ? AND receipt = ? AND dead_lettered_at IS NULL',
    );
    const upsertBeat = db.prepare(
      'INSERT INTO queue_consumers (consumer_id, heartbeat_at) VALUES (?, ?) ON CONFLICT (consumer_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at',
    );
    this.beat = (consumerId, at) => this.relaxed(() => upsertBeat.run(consumerId, at));
    this.selectStaleOwners = db.prepare('SELECT consumer_id FROM queue_consumers WHERE heartbeat_at < ? AND consumer_id <> ?');
    // A full scan, but only once per dead owner: rare enough not to need an index on `owner`.
    const releaseOwned = db.prepare(
      'UPDATE queue_messages SET visible_at = MIN(visible_at, ?), receipt = NULL, owner = NULL WHERE owner = ? AND dead_lettered_at IS NULL',
    );
    const forgetOwner = db.prepare('DELETE FROM queue_consumers WHERE consumer_id = ?');
    const reclaim = db.transaction((owner: string, now: number) => {
      const changed = releaseOwned.run(now, owner).changes;
      forgetOwner.run(owner);
      return changed;
    });
    this.reclaimOwner = (owner, now) => this.relaxed(() => reclaim.immediate(owner, now));
    this.extendByReceipt = db.prepare('UPDATE queue_messages SET visible_at = ? WHERE id = ? AND receipt = ? AND dead_lettered_at IS NULL');
    this.selectDeadLetters = db.prepare(`
      SELECT id, body, receive_count, enqueued_at, receipt FROM queue_messages
       WHERE topic = ? AND dead_lettered_at IS NOT NULL ORDER BY dead_lettered_at, id LIMIT ?`);
    this.selectDepth = db.prepare(`
      SELECT SUM(visible_at <= ?) AS visible,
             SUM(visible_at > ? AND receipt IS NULL) AS delayed,
             SUM(visible_at > ? AND receipt IS NOT NULL) AS in_flight
        FROM queue_messages WHERE topic = ? AND dead_lettered_at IS NULL`);
    // Served by queue_messages_ready_idx (topic, dead_lettered_at, ...): a range count, no table scan.
    this.countDeadLetters = db.prepare('SELECT COUNT(*) AS n FROM queue_messages WHERE topic = ? AND dead_lettered_at IS NOT NULL');
    this.selectOne = db.prepare('SELECT 1');
  }

  /**
   * The first `limit` due messages (by due time, then id) whose key is not in `skipped`, at most `roomOf(key)` of a key. With at most
   * `MAX_KEYS_SOUGHT` keys in the topic, each other key's due messages are sought by index, so a
   * skipped key's backlog costs nothing; with more keys, one read in due order passes over them.
   */
  private selectVisibleExcept(topic: Topic, now: number, skipped: ReadonlySet<string>, limit: number, roomOf?: (key: string) => number): MessageRow[] {
    const rows: MessageRow[] = [];
    let key = this.selectFirstKey.get(topic)?.key;
    for (let keys = 1; key !== undefined; keys++) {
      // Read past: the caller passes over the rows beyond a key's room.
      if (keys > MAX_KEYS_SOUGHT) return this.selectVisibleSkipping.all(topic, now, JSON.stringify([...skipped]), limit);
      if (!skipped.has(key)) for (const row of this.selectVisibleOfKey.all(topic, key, now, Math.min(limit, roomOf?.(key) ?? limit))) rows.push(row);
      key = this.selectNextKey.get(topic, key)?.key;
    }
    for (const row of this.selectVisibleKeyless.all(topic, now, limit)) rows.push(row);
    rows.sort((a, b) => a.visible_at - b.visible_at || a.id - b.id);
    if (rows.length > limit) rows.length = limit;
    return rows;
  }

  /**
   * Messages on `deliveries` are derived state: the delivery rows they point at are written first,
   * and the sweeper re-enqueues a pending delivery whose message is missing. So, like receipts and
   * acks, they skip their own fsync (a process crash never loses them; a power failure may, and
   * then the sweeper makes up for it). They, acks, nacks and extensions go through the
   * connection's progress writer: one transaction per event-loop turn for all of them (with the
   * delivery store's writes). `events` messages carry acknowledged input and stay durable.
   */
  async send(topic: Topic, message: OutgoingMessage): Promise<void> {
    const enqueue = () => this.enqueue(topic, message, this.clock.now());
    if (topic === 'deliveries') await this.writer.run('sending a message', enqueue);
    else withSqlite('sending a message', enqueue);
    this.signals.notifyIn(topic, message.delayMs ?? 0);
  }

  async sendBatch(topic: Topic, messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const enqueue = () => this.enqueueAll(topic, messages, this.clock.now());
    if (topic === 'deliveries') await this.writer.run('sending messages', enqueue);
    else withSqlite('sending messages', enqueue);
    this.signals.notifyIn(topic, messages.reduce((soonest, m) => Math.min(soonest, m.delayMs ?? 0), Infinity));
  }

  async receive<T = unknown>(topic: Topic, options: ReceiveOptions): Promise<ReceivedMessage<T>[]> {
    if (!this.heartbeat && !this.closed) this.startHeartbeat();
    const deadline = Date.now() + Math.max(0, options.waitTimeMs);
    for (;;) {
      if (this.closed) return [];
      const now = this.clock.now();
      // A plain read first: an idle poll must not take the write lock that ingest needs.
      const next = withSqlite('polling a topic', () => this.selectNextVisibleAt.get(topic))?.next ?? null;
      let onlySkipped = false;
      if (next !== null && next <= now && options.maxMessages > 0) {
        // The claim commits with the connection's other progress writes of this turn (acks,
        // outcomes, sends): one transaction, no fsync of its own (a lost claim only means an
        // earlier redelivery), instead of a transaction per receive.
        const received = await this.writer.run('receiving messages', () => this.claim(topic, options, this.clock.now()));
        if (received.length > 0) return received as ReceivedMessage<T>[];
        // Nothing claimed: everything due was dead-lettered (look again), or has a skipped key.
        if (!options.skipKeys?.length && !options.keyRoom) continue;
        onlySkipped = true;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) return [];
      // What is due has skipped keys: wait for a send (or the end of the wait, which the caller
      // keeps short), not for a due time already past nor a poll: each look scans the skipped backlog.
      let waitMs = onlySkipped ? remaining : Math.min(remaining, this.pollIntervalMs);
      if (next !== null && !onlySkipped) waitMs = Math.min(waitMs, Math.max(1, next - now));
      await this.signals.wait(topic, waitMs);
    }
  }

  async ack(_topic: Topic, receipt: string): Promise<void> {
    const id = receiptId(receipt);
    if (id === null) return;
    await this.writer.run('acknowledging a message', () => this.deleteByReceipt.run(id, receipt));
  }

  async ackWith<T>(_topic: Topic, receipt: string, write: () => Promise<T>): Promise<T> {
    const id = receiptId(receipt);
    if (id === null) return write();
    return this.writer.together(write, 'acknowledging a message', () => this.deleteByReceipt.run(id, receipt));
  }

  async nack(topic: Topic, receipt: string, delayMs: number): Promise<void> {
    const id = receiptId(receipt);
    if (id === null) return;
    const delay = Math.max(0, delayMs);
    const changed = await this.writer.run('releasing a message', () => this.releaseByReceipt.run(this.clock.now() + delay, id, receipt).changes > 0);
    if (changed) this.signals.notifyIn(topic, delay);
  }

  async extendVisibility(_topic: Topic, receipt: string, visibilityTimeoutMs: number): Promise<void> {
    const id = receiptId(receipt);
    if (id === null) return;
    await this.writer.run('extending a visibility timeout', () => this.extendByReceipt.run(this.clock.now() + Math.max(0, visibilityTimeoutMs), id, receipt));
  }

  /** Oldest dead letter first. Acking a dead letter's receipt deletes it (a purge). */
  async readDeadLetters<T = unknown>(topic: Topic, limit: number): Promise<ReceivedMessage<T>[]> {
    const rows = withSqlite('reading dead letters', () => this.selectDeadLetters.all(topic, Math.max(0, Math.floor(limit))));
    return rows.map((row) => ({
      id: String(row.id),
      receipt: row.receipt,
      body: JSON.parse(row.body) as T,
      receiveCount: row.receive_count,
      enqueuedAt: row.enqueued_at,
    }));
  }

  async depth(topic: Topic): Promise<QueueDepth> {
    const now = this.clock.now();
    const row = withSqlite('measuring queue depth', () => this.selectDepth.get(now, now, now, topic));
    return { visible: row?.visible ?? 0, delayed: row?.delayed ?? 0, inFlight: row?.in_flight ?? 0 };
  }

  async deadLetterDepth(topic: Topic): Promise<number> {
    return withSqlite('counting dead letters', () => this.countDeadLetters.get(topic)?.n ?? 0);
  }

  async ping(): Promise<void> {
    withSqlite('ping', () => this.selectOne.get());
  }

  /**
   * Announces this instance as a receiver and takes over the messages of receivers that stopped
   * heartbeating; then does both every `heartbeatMs`. Started by the first `receive`: an
   * instance that only sends owns nothing.
   */
  private startHeartbeat(): void {
    this.beatOnce();
    this.heartbeat = setInterval(() => this.beatOnce(), this.heartbeatMs);
    // Liveness must not keep a process up that has nothing else to do.
    this.heartbeat.unref();
  }

  private beatOnce(): void {
    try {
      const now = Date.now();
      this.beat(this.consumerId, now);
      for (const { consumer_id: owner } of this.selectStaleOwners.all(now - this.ownerStaleMs, this.consumerId)) {
        if (this.reclaimOwner(owner, this.clock.now()) > 0) this.signals.notifyAll();
      }
    } catch {
      // A busy or closed database: the next beat tries again (close() stops the beats).
    }
  }

  /**
   * Wakes waiting receivers (they return no messages) and stops heartbeating; the messages this
   * instance holds unacked are taken over by the others at once, as a dead owner's would be.
   * The shared connection is closed by its opener.
   */
  async close(): Promise<void> {
    if (this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
      // Stale now: another instance releases what this one held on its next beat.
      try {
        this.beat(this.consumerId, 0);
      } catch {
        // Closed already by its opener: the heartbeat goes stale by itself.
      }
    }
    this.closed = true;
    this.signals.notifyAll();
  }
}

export function createSqliteQueue(db: SqliteDatabase, options: SqliteQueueOptions): SqliteQueue {
  return new SqliteQueue(db, options);
}
