import type { Envelope } from './topology.ts';

/**
 * - `ready`: may be taken once `visibleAt` has passed (fetched, nacked without delay, or with an
 *   expired visibility timeout it is `in-flight` past `visibleAt`, which counts the same).
 * - `in-flight`: handed out under `receipt` until `visibleAt`.
 * - `moving`: being written to a delay or dead-letter topic; nobody may take it meanwhile.
 * - `done`: acked or moved; its offset may be committed once every earlier one is done too.
 */
export type EntryState = 'ready' | 'in-flight' | 'moving' | 'done';

export interface BufferedEntry {
  readonly partition: number;
  readonly offset: number;
  readonly envelope: Envelope;
  /** Receives so far: the count carried in the message plus this consumer's. */
  receives: number;
  state: EntryState;
  visibleAt: number;
  receipt: string | null;
}

export interface CollectResult {
  /** When the earliest entry that was not yet visible becomes visible; undefined if none. */
  nextVisibleAt: number | undefined;
}

/**
 * The messages of one assigned partition between the committed offset and the fetch position,
 * in offset order. Acks arrive in any order; the commit position is the first offset not yet
 * done, so only a contiguous prefix of settled messages is ever committed. Pure: no I/O, no clock.
 */
export class PartitionBuffer {
  private entries: BufferedEntry[] = [];
  /** Index of the first entry not yet done; everything before it is settled. */
  private head = 0;
  /** The next offset to fetch: every earlier offset is buffered or settled. */
  fetchedUpTo: number;
  /** The offset last committed for this partition (or the position it was first fetched from). */
  committed: number;
  /** Fetching is paused because the buffer is full. */
  paused = false;

  constructor(
    readonly partition: number,
    startOffset: number,
  ) {
    this.fetchedUpTo = startOffset;
    this.committed = startOffset;
  }

  /** Entries held (not yet committable), done ones behind an unsettled one included. */
  get size(): number {
    return this.entries.length - this.head;
  }

  /**
   * Adds fetched messages; offsets below the fetch position are skipped (kafkajs fetches again from
   * the committed offset after a rebalance). `nextOffset` is the offset after the fetched batch.
   */
  append(messages: { offset: number; envelope: Envelope }[], nextOffset: number, now: number): number {
    let added = 0;
    for (const { offset, envelope } of messages) {
      if (offset < this.fetchedUpTo) continue;
      this.entries.push({ partition: this.partition, offset, envelope, receives: envelope.receives, state: 'ready', visibleAt: now, receipt: null });
      this.fetchedUpTo = offset + 1;
      added++;
    }
    this.fetchedUpTo = Math.max(this.fetchedUpTo, nextOffset);
    return added;
  }

  /** The offset to commit: the first one not settled, or the fetch position when all are. */
  commitPosition(): number {
    return this.head < this.entries.length ? this.entries[this.head].offset : this.fetchedUpTo;
  }

  settle(entry: BufferedEntry): void {
    entry.state = 'done';
    entry.receipt = null;
    while (this.head < this.entries.length && this.entries[this.head].state === 'done') this.head++;
    if (this.head >= 1024 && this.head * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * Appends to `out` up to `limit` entries that may be handed out now, in offset order. With
   * `serializeKeys`, an entry waits while an earlier entry with its key is not done.
   */
  collect(now: number, limit: number, serializeKeys: boolean, out: BufferedEntry[]): CollectResult {
    let nextVisibleAt: number | undefined;
    const busyKeys = serializeKeys ? new Set<string>() : undefined;
    for (let i = this.head; i < this.entries.length && limit > 0; i++) {
      const entry = this.entries[i];
      if (entry.state === 'done') continue;
      const key = entry.envelope.key;
      const blocked = busyKeys !== undefined && key !== null && busyKeys.has(key);
      if (busyKeys !== undefined && key !== null) busyKeys.add(key);
      if (entry.state === 'moving' || blocked) continue;
      if (entry.visibleAt <= now) {
        out.push(entry);
        limit--;
      } else if (nextVisibleAt === undefined || entry.visibleAt < nextVisibleAt) {
        nextVisibleAt = entry.visibleAt;
      }
    }
    return { nextVisibleAt };
  }

  /** Every entry not yet settled (for revoking the partition). */
  unsettled(): BufferedEntry[] {
    return this.entries.slice(this.head).filter((entry) => entry.state !== 'done');
  }

  /** In flight (handed out or being moved) and settled-but-not-yet-committable, for depth. */
  counts(): { inFlight: number; settled: number } {
    let inFlight = 0;
    let settled = 0;
    for (let i = this.head; i < this.entries.length; i++) {
      const state = this.entries[i].state;
      if (state === 'done') settled++;
      else if (state === 'in-flight' || state === 'moving') inFlight++;
    }
    return { inFlight, settled };
  }
}
