import type { KeyRoom } from '../../ports/queue.ts';
import { markerCovers, priorReceives, type ReceiveMarker } from './receive-marker.ts';
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
  /** Receives so far: the count carried in the message, the earlier owners' (receive marker) and this consumer's. */
  receives: number;
  state: EntryState;
  visibleAt: number;
  receipt: string | null;
  /** The run of consecutive entries with this entry's key that it belongs to (a refused key's run is passed over at once). */
  readonly run: KeyRun;
}

interface KeyRun {
  /** The offset of the run's last entry. */
  lastOffset: number;
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
  /** The receive marker stored with the committed offset: what may be handed out without writing another. */
  durable: ReceiveMarker | null;
  /** Entries waiting for a marker that counts their next receive before they may be handed out. */
  private readonly wanting = new Set<BufferedEntry>();
  /**
   * What `markerToWrite` would otherwise walk the buffer for, kept as entries change: per count
   * (an entry's owner receives, plus one while it is wanted) above zero, how many entries from the
   * head on have it, and the last such entry (`counted`, possibly behind the head or stale at
   * zero, then found again by a walk back from it).
   */
  private readonly countsHeld = new Map<number, number>();
  private lastCounted: BufferedEntry | null = null;
  private lastCountedStale = false;

  /**
   * `prior` is the receive marker found at `startOffset` (earlier owners' receives). When its
   * messages were received `narrowAfter` times or more, the range it covers has failed that often:
   * it is handed out one message at a time, so a message that kills its consumer is told apart from
   * the ones that were merely in flight with it.
   */
  constructor(
    readonly partition: number,
    startOffset: number,
    private readonly prior: ReceiveMarker | null = null,
    private readonly narrowAfter = Number.POSITIVE_INFINITY,
  ) {
    this.fetchedUpTo = startOffset;
    this.committed = startOffset;
    this.durable = prior;
  }

  /** One message at a time: the committed offset is still inside a range that failed `narrowAfter` times. */
  get narrowed(): boolean {
    const prior = this.prior;
    return prior !== null && this.commitPosition() < prior.to && Math.max(prior.head, prior.rest) >= this.narrowAfter;
  }

  /** Whether the stored marker already counts the entry's next receive. */
  covers(entry: BufferedEntry): boolean {
    return markerCovers(this.durable, entry.offset, ownerReceives(entry) + 1);
  }

  /** The entries waiting for a marker (see `requestMarker`). */
  get wanted(): ReadonlySet<BufferedEntry> {
    return this.wanting;
  }

  /** Asks for a marker that counts the next receive of `entry` and of every other entry that may be handed out. */
  requestMarker(entry: BufferedEntry): void {
    if (this.wanting.has(entry)) return; // asked for already, with the others that were ready then
    this.want(entry);
    if (this.narrowed) return;
    for (let i = this.head; i < this.entries.length; i++) if (this.entries[i].state === 'ready') this.want(this.entries[i]);
  }

  /** A marker counting these entries' next receive is stored: they are no longer waiting. */
  unwant(entries: Iterable<BufferedEntry>): void {
    for (const entry of entries) {
      if (!this.wanting.has(entry)) continue;
      const before = this.countOf(entry);
      this.wanting.delete(entry);
      this.recount(entry, before);
    }
  }

  /** One more receive of `entry` by this owner (it is being handed out). */
  countReceive(entry: BufferedEntry): void {
    const before = this.countOf(entry);
    entry.receives++;
    this.recount(entry, before);
  }

  private want(entry: BufferedEntry): void {
    if (this.wanting.has(entry)) return;
    const before = this.countOf(entry);
    this.wanting.add(entry);
    this.recount(entry, before);
  }

  /** What the marker counts for an entry: its owners' receives, plus the one it waits for. */
  private countOf(entry: BufferedEntry): number {
    return ownerReceives(entry) + (this.wanting.has(entry) ? 1 : 0);
  }

  /** Moves an entry from the head on from count `before` to its count now. */
  private recount(entry: BufferedEntry, before: number): void {
    const after = this.countOf(entry);
    if (after === before) return;
    if (before > 0) this.hold(before, -1);
    if (after > 0) {
      this.hold(after, 1);
      if (this.lastCounted === null || entry.offset >= this.lastCounted.offset) {
        this.lastCounted = entry;
        this.lastCountedStale = false;
      }
    } else if (entry === this.lastCounted) {
      this.lastCountedStale = true;
    }
  }

  private hold(count: number, change: 1 | -1): void {
    const held = (this.countsHeld.get(count) ?? 0) + change;
    if (held === 0) this.countsHeld.delete(count);
    else this.countsHeld.set(count, held);
  }

  /** The last entry from the head on with a count, if any. */
  private lastWithCount(): BufferedEntry | null {
    const last = this.lastCounted;
    if (last === null || this.head >= this.entries.length || last.offset < this.entries[this.head].offset) return null;
    if (!this.lastCountedStale) return last;
    // Its count fell to zero (a marker stored, the receive not made yet): walk back to the one before.
    let found: BufferedEntry | null = null;
    for (let i = this.indexAfter(last.offset, this.head) - 1; i >= this.head; i--) {
      if (this.countOf(this.entries[i]) > 0) {
        found = this.entries[i];
        break;
      }
    }
    this.lastCounted = found;
    this.lastCountedStale = false;
    return found;
  }

  /**
   * The marker to store with the commit position: per offset the owners' receives so far, plus one
   * for each wanted entry, and the earlier owners' for offsets not fetched again yet. Null when no
   * message past the commit position was received by an owner.
   */
  markerToWrite(): ReceiveMarker | null {
    const from = this.commitPosition();
    let to = from;
    let head = 0;
    let rest = 0;
    const count = (offset: number, receives: number) => {
      if (receives <= 0) return;
      to = Math.max(to, offset + 1);
      if (offset === from) head = Math.max(head, receives);
      else rest = Math.max(rest, receives);
    };
    // The buffered entries from the head on, from the counts kept as they change (no walk).
    const last = this.lastWithCount();
    if (last !== null) {
      const first = this.entries[this.head];
      const firstCount = this.countOf(first);
      count(first.offset, firstCount);
      let highest = 0;
      for (const [held, entries] of this.countsHeld) if (held > highest && (held !== firstCount || entries > 1)) highest = held;
      if (highest > 0) count(last.offset, highest);
    }
    const prior = this.prior;
    if (prior) {
      const unfetched = Math.max(from, this.fetchedUpTo);
      if (unfetched < prior.to) {
        count(unfetched, priorReceives(prior, unfetched));
        if (unfetched + 1 < prior.to) count(prior.to - 1, prior.rest);
      }
    }
    // What the stored marker allows stays allowed: messages may be handed out under it while this
    // marker is being written, so it may only shrink as the commit position passes its end.
    const durable = this.durable;
    if (durable && durable.to > from) {
      count(from, priorReceives(durable, from));
      if (from + 1 < durable.to) count(durable.to - 1, durable.rest);
    }
    return to > from ? { from, to, head, rest } : null;
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
      const receives = envelope.receives + priorReceives(this.prior, offset);
      const previous = this.entries.length > this.head ? this.entries[this.entries.length - 1] : undefined;
      const run = previous && envelope.key !== null && previous.envelope.key === envelope.key ? previous.run : { lastOffset: offset };
      run.lastOffset = offset;
      const entry: BufferedEntry = { partition: this.partition, offset, envelope, receives, state: 'ready', visibleAt: now, receipt: null, run };
      this.entries.push(entry);
      this.recount(entry, 0);
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
    this.unwant([entry]);
    entry.state = 'done';
    entry.receipt = null;
    while (this.head < this.entries.length && this.entries[this.head].state === 'done') {
      const passed = this.countOf(this.entries[this.head++]);
      if (passed > 0) this.hold(passed, -1);
    }
    if (this.head >= 1024 && this.head * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * Appends to `out` up to `limit` entries that may be handed out now, in offset order. With
   * `serializeKeys`, an entry waits while an earlier entry with its key is not done. An entry that
   * `admit` refuses (its key has no room) stays ready in the buffer, in its place.
   */
  collect(now: number, limit: number, serializeKeys: boolean, out: BufferedEntry[], admit?: KeyAdmission): CollectResult {
    let nextVisibleAt: number | undefined;
    const busyKeys = serializeKeys ? new Set<string>() : undefined;
    const end = this.narrowed ? Math.min(this.entries.length, this.head + 1) : this.entries.length;
    for (let i = this.head; i < end && limit > 0; i++) {
      const entry = this.entries[i];
      if (entry.state === 'done') continue;
      const key = entry.envelope.key;
      const blocked = busyKeys !== undefined && key !== null && busyKeys.has(key);
      if (busyKeys !== undefined && key !== null) busyKeys.add(key);
      if (entry.state === 'moving' || blocked) continue;
      if (entry.visibleAt <= now) {
        if (admit && !admit(key)) {
          // A refused key stays refused in this receive: pass over the rest of its run (a
          // subscription's backlog is mostly one long run) instead of asking for each entry.
          i = this.indexAfter(entry.run.lastOffset, i) - 1;
          continue;
        }
        out.push(entry);
        limit--;
      } else if (nextVisibleAt === undefined || entry.visibleAt < nextVisibleAt) {
        nextVisibleAt = entry.visibleAt;
      }
    }
    return { nextVisibleAt };
  }

  /** The index of the first entry past `offset`, searched from `from` (entries are in offset order). */
  private indexAfter(offset: number, from: number): number {
    let low = from;
    let high = this.entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.entries[middle].offset <= offset) low = middle + 1;
      else high = middle;
    }
    return low;
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

/** Whether one more message of `key` may be handed out in this receive (counting it if so). */
export type KeyAdmission = (key: string | null) => boolean;

/**
 * The receive options' `skipKeys` and `keyRoom` as one check for a receive: a skipped key is
 * refused; otherwise at most `keyRoom.keys.get(key)` (or `keyRoom.perKey`) messages of a key are
 * admitted. Messages without a key are always admitted. Undefined when neither limits anything.
 */
export function keyAdmission(skipKeys: readonly string[] | undefined, keyRoom: KeyRoom | undefined): KeyAdmission | undefined {
  const skipped = skipKeys && skipKeys.length > 0 ? new Set(skipKeys) : undefined;
  if (!skipped && !keyRoom) return undefined;
  const admitted = new Map<string, number>();
  return (key) => {
    if (key === null) return true;
    if (skipped?.has(key)) return false;
    if (!keyRoom) return true;
    const count = admitted.get(key) ?? 0;
    if (count >= (keyRoom.keys.get(key) ?? keyRoom.perKey)) return false;
    admitted.set(key, count + 1);
    return true;
  };
}

/** Receives of the entry by owners of its partition (the count carried in the message was made elsewhere and travels with it). */
function ownerReceives(entry: BufferedEntry): number {
  return entry.receives - entry.envelope.receives;
}
