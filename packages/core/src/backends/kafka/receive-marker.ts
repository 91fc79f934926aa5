/**
 * Receive counts that outlive the consumer: a marker kept in the metadata of a partition's
 * committed offset (one OffsetCommit carries both, so it costs no other write and goes away with
 * the consumer group).
 *
 * `{from, to, head, rest}` says: the message at offset `from` (the committed offset) has been
 * received at most `head` times, and each message in (`from`, `to`) at most `rest` times, by
 * owners of the partition that may have died without settling them. A consumer writes it before it
 * hands out messages (one write for every message it has buffered, so one per fetched batch), and
 * the next owner starts their receive counts from it: a message that kills its consumer is counted
 * once per crash and dead-lettered after `maxReceives`, like on the other queues.
 */
export interface ReceiveMarker {
  from: number;
  to: number;
  head: number;
  rest: number;
}

const VERSION = 'r1';

/** The metadata string for a marker; null clears it (nothing received beyond the committed offset). */
export function formatMarker(marker: ReceiveMarker | null): string | null {
  return marker ? JSON.stringify({ v: VERSION, from: marker.from, to: marker.to, head: marker.head, rest: marker.rest }) : null;
}

/** The marker in a committed offset's metadata, if it was written at that offset (anything else is stale or foreign). */
export function parseMarker(metadata: string | null | undefined, committedOffset: number): ReceiveMarker | null {
  if (!metadata) return null;
  let value: unknown;
  try {
    value = JSON.parse(metadata);
  } catch {
    return null;
  }
  const { v, from, to, head, rest } = (value ?? {}) as Record<string, unknown>;
  const whole = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
  if (v !== VERSION || !whole(from) || !whole(to) || !whole(head) || !whole(rest) || from !== committedOffset || to <= from) return null;
  return { from, to, head, rest };
}

/** Receives an earlier owner may have made of the message at `offset`. */
export function priorReceives(marker: ReceiveMarker | null, offset: number): number {
  if (!marker || offset < marker.from || offset >= marker.to) return 0;
  return offset === marker.from ? marker.head : marker.rest;
}

/** Whether the marker already allows handing out the message at `offset` for its `count`-th receive. */
export function markerCovers(marker: ReceiveMarker | null, offset: number, count: number): boolean {
  return marker !== null && offset >= marker.from && offset < marker.to && count <= priorReceives(marker, offset);
}
