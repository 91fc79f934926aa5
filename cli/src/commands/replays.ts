import type { Replay, ReplayFilter } from '@triggers/sdk';
import { table, type CommandContext } from '../context.ts';
import { EXIT } from '../exit-codes.ts';

export interface ReplayCreateFlags {
  start: string;
  end: string;
  status?: ReplayFilter['status'];
  eventType?: string;
  workflowId?: string;
  idempotencyKey?: string;
  wait?: boolean;
  settled?: boolean;
}

/**
 * `triggers replays create`: starts a bulk replay of the events the filter selects and prints the
 * job; `--wait` follows it (progress on stderr) until it is no longer running (with `--settled`,
 * until every webhook it caused has ended) and exits 0 only when it completed. Ctrl-C stops the
 * waiting, not the job.
 */
export async function replaysCreateCommand(ctx: CommandContext, flags: ReplayCreateFlags, signal: AbortSignal, setExitCode: (code: number) => void): Promise<void> {
  const client = ctx.client();
  const filter: ReplayFilter = { start_time: flags.start, end_time: flags.end };
  if (flags.status !== undefined) filter.status = flags.status;
  if (flags.eventType !== undefined) filter.event_type = flags.eventType;
  if (flags.workflowId !== undefined) filter.workflow_id = flags.workflowId;
  const created = await client.replays.create({ filter }, { idempotencyKey: flags.idempotencyKey });
  if (!flags.wait && !flags.settled) return printReplay(ctx, created);

  const what = flags.settled ? 'its deliveries to end' : 'it to finish';
  ctx.note(`Replay ${created.replay_id} started; waiting for ${what} (Ctrl-C stops waiting, not the replay).`);
  let replay = created;
  let last = '';
  const onProgress = (read: Replay) => {
    replay = read;
    const progress = countsText(read);
    if (progress !== last) ctx.note(`  ${read.status}: ${progress}`);
    last = progress;
  };
  try {
    await client.replays.wait(created.replay_id, { intervalMs: 1000, signal, onProgress, until: flags.settled ? 'settled' : 'ended' });
  } catch (error) {
    if (!signal.aborted) throw error;
    ctx.note(`Stopped waiting; replay ${created.replay_id} keeps running.`);
  }
  printReplay(ctx, replay);
  if (replay.status === 'cancelled' || replay.status === 'failed') {
    ctx.note(`error: replay ${replay.replay_id} ended ${replay.status}.`);
    setExitCode(EXIT.failure);
  }
}

/** `triggers replays get ID`: the job and its counts. */
export async function replaysGetCommand(ctx: CommandContext, replayId: string): Promise<void> {
  printReplay(ctx, await ctx.client().replays.get(replayId));
}

/** `triggers replays cancel ID`: cancels a running job (a finished one is left as it is) and prints it as it is now. */
export async function replaysCancelCommand(ctx: CommandContext, replayId: string): Promise<void> {
  const client = ctx.client();
  await client.replays.cancel(replayId);
  printReplay(ctx, await client.replays.get(replayId));
}

function printReplay(ctx: CommandContext, replay: Replay): void {
  if (ctx.json) return ctx.printJson(replay);
  const { counts } = replay;
  ctx.line(
    table(
      ['REPLAY', 'STATUS', 'MATCHED', 'ENQUEUED', 'PROCESSED', 'UNMATCHED', 'DELIVERIES', 'DELIVERED', 'FAILED', 'SETTLED', 'CREATED', 'FINISHED'],
      [
        [
          replay.replay_id,
          replay.status,
          ...[counts.matched, counts.enqueued, counts.processed, counts.unmatched, counts.deliveries, counts.delivered, counts.failed].map(String),
          replay.settled ? 'yes' : 'no',
          replay.created_at,
          replay.finished_at ?? '-',
        ],
      ],
    ),
  );
}

function countsText({ counts }: Replay): string {
  return `matched ${counts.matched}, enqueued ${counts.enqueued}, processed ${counts.processed} (unmatched ${counts.unmatched}), deliveries ${counts.deliveries}: delivered ${counts.delivered}, failed ${counts.failed}`;
}
