import { createInterface } from 'node:readline';
import { MAX_BATCH_EVENTS, type EventPayload } from '@triggers/sdk';
import { parseJsonArgument, type CommandContext } from '../context.ts';
import { UsageError } from '../exit-codes.ts';

export interface SendFlags {
  idempotencyKey?: string;
}

/**
 * `triggers send [PAYLOAD_JSON]`: one event from the argument, or NDJSON payloads on stdin (one
 * object per line; blank lines skipped) sent in batches of up to 500 as they are read. Prints each
 * accepted event id on its own line (`--json`: one JSON object per event).
 */
export async function sendCommand(ctx: CommandContext, payloadArgument: string | undefined, flags: SendFlags): Promise<void> {
  const client = ctx.client();
  if (payloadArgument !== undefined && payloadArgument !== '-') {
    const payload = asPayload(parseJsonArgument(payloadArgument, 'PAYLOAD_JSON'), 'PAYLOAD_JSON');
    const accepted = await client.events.send(payload, { idempotencyKey: flags.idempotencyKey });
    if (ctx.json) ctx.printJson(accepted);
    else ctx.line(accepted.event_id);
    return;
  }
  if (ctx.io.stdin.isTTY) throw new UsageError('Give PAYLOAD_JSON, or pipe NDJSON payloads (one JSON object per line) on stdin.');

  let pending: EventPayload[] = [];
  let batches = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    const key = flags.idempotencyKey === undefined ? undefined : `${flags.idempotencyKey}-${batches}`;
    batches++;
    const accepted = await client.events.sendBatch(pending, { idempotencyKey: key });
    pending = [];
    for (const event of accepted) {
      if (ctx.json) ctx.printJson(event, true);
      else ctx.line(event.event_id);
    }
  };
  const lines = createInterface({ input: ctx.io.stdin, crlfDelay: Infinity });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === '') continue;
    pending.push(asPayload(parseJsonArgument(line, `stdin line ${lineNumber}`), `stdin line ${lineNumber}`));
    if (pending.length >= MAX_BATCH_EVENTS) await flush();
  }
  await flush();
}

function asPayload(value: unknown, what: string): EventPayload {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${what} must be a JSON object (the event's payload).`);
  return value as EventPayload;
}
