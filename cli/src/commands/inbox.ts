import type { InboxEvent, InboxListOptions, InboxQuery } from '@triggers/sdk';
import { table, type CommandContext } from '../context.ts';
import { UsageError } from '../exit-codes.ts';

export interface InboxFlags {
  eventType?: string;
  status?: InboxQuery['status'];
  since?: string;
  until?: string;
  limit?: string;
  cursor?: string;
  all?: boolean;
  follow?: boolean;
}

/** Keyed by the generated type, so a status the server adds fails the typecheck until it is listed here. */
const STATUS_KEYS: Record<NonNullable<InboxQuery['status']>, true> = { pending: true, delivered: true, failed: true, unmatched: true };
/** The `--status` choices (commander refuses any other value). */
export const INBOX_STATUSES = Object.keys(STATUS_KEYS);

/**
 * `triggers inbox`: one page of events, newest first (a table, or the page as JSON); `--all`
 * follows cursors; `--follow` prints the latest events oldest first, then every new one as it
 * is accepted (from the event stream, resuming right after the last listed event, so nothing
 * falls between the two), until interrupted.
 */
export async function inboxCommand(ctx: CommandContext, flags: InboxFlags, signal: AbortSignal): Promise<void> {
  const client = ctx.client();
  const limit = flags.limit === undefined ? undefined : Number(flags.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 1000)) throw new UsageError('--limit must be a whole number from 1 to 1000.');
  const query: InboxListOptions = {
    event_type: flags.eventType,
    status: flags.status,
    start_time: flags.since,
    end_time: flags.until,
    limit: limit ?? (flags.follow ? 20 : undefined),
    cursor: flags.cursor,
  };

  if (flags.follow) {
    const page = await client.inbox.list(query);
    const listed = [...page.events].reverse();
    for (const event of listed) printEvent(ctx, event);
    const newest = page.events[0]?.event_id;
    if (!ctx.json) ctx.note(`Following new events (Ctrl-C to stop)…`);
    for await (const event of client.events.stream({ event_type: flags.eventType, status: query.status, lastEventId: newest, signal })) {
      printEvent(ctx, event);
    }
    return;
  }

  if (flags.all) {
    const events: InboxEvent[] = [];
    for await (const event of client.inbox.iterate(withoutCursor(query))) {
      if (ctx.json) ctx.printJson(event, true);
      else events.push(event);
    }
    if (!ctx.json) ctx.line(eventTable(events));
    return;
  }

  const page = await client.inbox.list(query);
  if (ctx.json) return ctx.printJson(page);
  ctx.line(eventTable(page.events));
  if (page.has_more) ctx.note(`More events: triggers inbox --cursor ${page.cursor}`);
}

function printEvent(ctx: CommandContext, event: InboxEvent): void {
  if (ctx.json) ctx.printJson(event, true);
  else ctx.line(eventRow(event).join('  '));
}

function eventRow(event: InboxEvent): string[] {
  const type = typeof event.payload.event_type === 'string' ? event.payload.event_type : '-';
  return [event.event_id, event.timestamp, event.status.padEnd(9), String(event.delivery_attempts).padStart(8), type];
}

export function eventTable(events: InboxEvent[]): string {
  if (events.length === 0) return '(no events)';
  return table(['EVENT ID', 'TIMESTAMP', 'STATUS', 'ATTEMPTS', 'EVENT TYPE'], events.map(eventRow));
}

function withoutCursor(query: InboxListOptions): Omit<InboxListOptions, 'cursor'> {
  const { cursor: _cursor, ...rest } = query;
  return rest;
}
