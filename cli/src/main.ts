import { Command, CommanderError, Option } from 'commander';
import { CommandContext, type GlobalFlags, type Io } from './context.ts';
import { EXIT, exitCodeFor } from './exit-codes.ts';
import { sendCommand } from './commands/send.ts';
import { INBOX_STATUSES, inboxCommand } from './commands/inbox.ts';
import { eventsGetCommand, eventsReplayCommand } from './commands/events.ts';
import {
  subscriptionsCreateCommand,
  subscriptionsDeleteCommand,
  subscriptionsDisableCommand,
  subscriptionsListCommand,
  subscriptionsRotateSecretCommand,
} from './commands/subscriptions.ts';
import { replaysCancelCommand, replaysCreateCommand, replaysGetCommand } from './commands/replays.ts';
import { verifyCommand } from './commands/verify.ts';
import { listenCommand } from './commands/listen.ts';
import { TriggersError } from '@triggers/sdk';

const EXIT_CODES_HELP = `
Exit codes: 0 ok, 1 unexpected failure, 2 usage error, 3 request refused (4xx),
4 unauthorized (401), 5 not found (404), 6 server unreachable or unavailable (5xx, 429 after retries),
7 webhook signature invalid (verify). "replays create --wait" exits 1 when the job ends cancelled or failed.

Connection: --url/--api-key, else TRIGGERS_URL/TRIGGERS_API_KEY, else the profile (--profile or
TRIGGERS_PROFILE, else "default") in $TRIGGERS_CONFIG or ~/.config/triggers/config.json:
  {"profiles": {"default": {"url": "http://localhost:8080", "api_key": "sk_test_..."}}}`;

/** Builds the `triggers` program; `run` wraps each action so errors become exit codes. */
export function buildProgram(io: Io, signal: AbortSignal, setExitCode: (code: number) => void): Command {
  const program = new Command('triggers');
  const ctx = new CommandContext(io, () => program.opts<GlobalFlags>());
  const run =
    <A extends unknown[]>(action: (...args: A) => Promise<void>) =>
    async (...args: A) => {
      try {
        await action(...args);
      } catch (error) {
        setExitCode(exitCodeFor(error));
        report(ctx, error);
      }
    };

  program
    .description('Send events, read the inbox, manage subscriptions, verify webhooks and forward live events to a local URL.')
    .version('0.1.0')
    .option('--url <url>', 'API base URL (env TRIGGERS_URL; default http://localhost:8080)')
    .option('--api-key <key>', 'customer API key (env TRIGGERS_API_KEY)')
    .option('--profile <name>', 'profile in the profile file (env TRIGGERS_PROFILE)')
    .option('--json', 'machine-readable output (JSON; NDJSON for streams and lists)')
    .option('--timeout <seconds>', 'per-request timeout (default 30)')
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', EXIT_CODES_HELP)
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride();

  program
    .command('send')
    .description('send one event (PAYLOAD_JSON), or NDJSON payloads from stdin in batches of up to 500; prints each event id')
    .argument('[PAYLOAD_JSON]', 'the payload, a JSON object; omit (or "-") to read NDJSON from stdin')
    .option('--idempotency-key <key>', 'your own key (stdin: "<key>-<batch number>"); generated otherwise')
    .action(run((payload: string | undefined, flags) => sendCommand(ctx, payload, flags)));

  program
    .command('inbox')
    .description('list events, newest first (a table, or JSON); --follow prints new ones as they arrive')
    .option('--event-type <type>', 'only events with this payload.event_type')
    .addOption(new Option('--status <status>', 'only events in this status').choices(INBOX_STATUSES))
    .option('--since <time>', 'RFC 3339: events at or after this time')
    .option('--until <time>', 'RFC 3339: events before this time')
    .option('--limit <n>', 'page size, 1–1000 (default 100; 20 with --follow)')
    .option('--cursor <cursor>', 'the cursor of the previous page')
    .option('--all', 'follow cursors through every page')
    .option('-f, --follow', 'keep printing new events as they are accepted (Ctrl-C to stop)')
    .action(run((flags) => inboxCommand(ctx, flags, signal)));

  const events = program.command('events').description('one event: its details and attempts, or a replay');
  events
    .command('get')
    .description('the event, its payload and its delivery attempts')
    .argument('<EVENT_ID>')
    .action(run((id: string) => eventsGetCommand(ctx, id)));
  events
    .command('replay')
    .description('match the event again and deliver it to what matches now')
    .argument('<EVENT_ID>')
    .action(run((id: string) => eventsReplayCommand(ctx, id)));

  const subscriptions = program.command('subscriptions').alias('subs').description('webhook subscriptions (workflows)');
  subscriptions
    .command('list')
    .description('every subscription, newest first')
    .action(run(() => subscriptionsListCommand(ctx)));
  subscriptions
    .command('create')
    .description('create a subscription; prints its signing secret (shown only once)')
    .requiredOption('--webhook-url <url>', 'where to deliver (http or https)')
    .option('--event-type <type>', 'match payload.event_type (order.* matches trailing segments)')
    .option('--selector <json>', 'any event selector as JSON')
    .option('--description <text>', 'a note for people')
    .action(run((flags) => subscriptionsCreateCommand(ctx, flags)));
  subscriptions
    .command('rotate-secret')
    .description('a new signing secret; the previous one keeps signing too for 24 h')
    .argument('<WORKFLOW_ID>')
    .action(run((id: string) => subscriptionsRotateSecretCommand(ctx, id)));
  subscriptions
    .command('disable')
    .description('stop matching new events (status disabled)')
    .argument('<WORKFLOW_ID>')
    .action(run((id: string) => subscriptionsDisableCommand(ctx, id)));
  subscriptions
    .command('delete')
    .description('delete the subscription')
    .argument('<WORKFLOW_ID>')
    .action(run((id: string) => subscriptionsDeleteCommand(ctx, id)));

  const replays = program.command('replays').description('bulk replay: deliver again every stored event a filter selects');
  replays
    .command('create')
    .description('start a bulk replay of the events in [--start, --end) (paced by the server); prints the job')
    .requiredOption('--start <time>', 'RFC 3339: events at or after this time')
    .requiredOption('--end <time>', 'RFC 3339: events before this time')
    .addOption(new Option('--status <status>', 'only events in this status (e.g. failed)').choices(INBOX_STATUSES))
    .option('--event-type <type>', 'only events with this payload.event_type')
    .option('--workflow-id <id>', 'deliver only to this subscription (when it matches the event now)')
    .option('--idempotency-key <key>', 'the same key with the same filter answers with the first job; generated otherwise')
    .option('--wait', 'follow the job (progress on stderr) until it is no longer running; exit 1 unless it completed')
    .option('--settled', 'like --wait, but until every webhook the job caused has ended (delivered + failed = deliveries)')
    .action(run((flags) => replaysCreateCommand(ctx, flags, signal, setExitCode)));
  replays
    .command('get')
    .description('the job: its status, counts (matched, enqueued, processed, unmatched, deliveries, delivered, failed) and whether it has settled')
    .argument('<REPLAY_ID>')
    .action(run((id: string) => replaysGetCommand(ctx, id)));
  replays
    .command('cancel')
    .description('cancel a running job (what it enqueued is still delivered); prints it as it is now')
    .argument('<REPLAY_ID>')
    .action(run((id: string) => replaysCancelCommand(ctx, id)));

  program
    .command('verify')
    .description('check a saved webhook (raw body + webhook-* headers) against a signing secret; exit 7 when invalid')
    .requiredOption('--secret <whsec>', 'the subscription secret (whsec_...)')
    .option('--request <file>', 'a saved request: {"headers": {...}, "body": "<raw body>"}')
    .option('--body <file>', 'the raw body exactly as received ("-": stdin)')
    .option('--headers <file>', 'a JSON object of the headers')
    .option('--header <line>', '"name: value" (repeatable)', (value: string, previous: string[] = []) => [...previous, value])
    .option('--tolerance <seconds>', 'how old the webhook-timestamp may be (default 300)')
    .option('--ignore-timestamp', 'check the signature only (for old saved webhooks)')
    .action(run((flags) => verifyCommand(ctx, flags)));

  program
    .command('listen')
    .description('forward live events to a local URL, signed like real webhooks (no subscription is created)')
    .requiredOption('--forward-to <url>', 'the local URL to POST each event to')
    .option('--event-type <type>', 'only events whose event_type matches (order.* matches trailing segments)')
    .option('--selector <json>', 'only events this selector matches (as in subscriptions)')
    .option('--secret <whsec>', 'sign with this secret (e.g. the one your handler checks); a new one per session otherwise')
    .option('--forward-timeout <seconds>', 'how long to wait for the local URL (default 30)')
    .action(run((flags) => listenCommand(ctx, flags, signal)));

  return program;
}

function report(ctx: CommandContext, error: unknown): void {
  if (ctx.json && error instanceof TriggersError) {
    ctx.io.stderr.write(`${JSON.stringify({ error: { code: error.code, status: error.status, detail: error.detail, request_id: error.requestId, ...(error.problem?.errors ? { errors: error.problem.errors } : {}) } })}\n`);
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  const requestId = error instanceof TriggersError && error.requestId ? ` (request id ${error.requestId})` : '';
  ctx.io.stderr.write(`error: ${message}${requestId}\n`);
  if (error instanceof TriggersError && error.problem?.errors) {
    for (const item of error.problem.errors) ctx.io.stderr.write(`  item ${item.index}: ${item.detail}\n`);
  }
}

/** Runs the CLI; resolves with the exit code. SIGINT stops a following command cleanly (exit 0). */
export async function main(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }): Promise<number> {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let exitCode: number = EXIT.ok;
  try {
    await buildProgram(io, controller.signal, (code) => (exitCode = code)).parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version "fail" with exit code 0; parse errors are usage errors.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return exitCode;
}
