import type { CommandContext } from '../context.ts';
import { eventTable } from './inbox.ts';
import { table } from '../context.ts';

/** `triggers events get ID`: the event, its payload and its delivery attempts. */
export async function eventsGetCommand(ctx: CommandContext, eventId: string): Promise<void> {
  const event = await ctx.client().events.get(eventId);
  if (ctx.json) return ctx.printJson(event);
  ctx.line(eventTable([event]));
  ctx.line();
  ctx.line('Payload:');
  ctx.line(JSON.stringify(event.payload, null, 2));
  ctx.line();
  if (event.attempts.length === 0) return ctx.line('No delivery attempts.');
  ctx.line(
    table(
      ['SUBSCRIPTION', 'ATTEMPT', 'STATUS', 'HTTP', 'DURATION', 'TIMESTAMP', 'ERROR'],
      event.attempts.map((a) => [a.workflow_id, String(a.attempt), a.status, a.status_code === null ? '-' : String(a.status_code), `${Math.round(a.duration_ms)} ms`, a.timestamp, a.error ?? '']),
    ),
  );
}

/** `triggers events replay ID`: matches the event again and delivers it to what matches now. */
export async function eventsReplayCommand(ctx: CommandContext, eventId: string): Promise<void> {
  const accepted = await ctx.client().events.replay(eventId);
  if (ctx.json) return ctx.printJson(accepted);
  ctx.line(`Replay of ${eventId} accepted.`);
}
