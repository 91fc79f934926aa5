import { readFileSync } from 'node:fs';
import { verifyWebhook } from '@triggers/sdk';
import type { CommandContext } from '../context.ts';
import { UsageError } from '../exit-codes.ts';

export interface VerifyFlags {
  secret: string;
  /** A saved request: `{"headers": {...}, "body": "<the raw body>"}`. */
  request?: string;
  /** The raw body's file (`-`: stdin). */
  body?: string;
  /** A JSON object of headers. */
  headers?: string;
  header?: string[];
  tolerance?: string;
  ignoreTimestamp?: boolean;
}

/**
 * `triggers verify`: checks a saved webhook (body exactly as received, and its webhook-* headers)
 * against a subscription's secret. Exit 0 and "valid", or exit 7 and why not.
 */
export async function verifyCommand(ctx: CommandContext, flags: VerifyFlags): Promise<void> {
  let body: string;
  let headers: Record<string, string> = {};
  if (flags.request !== undefined) {
    const saved = readJson(flags.request) as { headers?: Record<string, string>; body?: unknown };
    if (typeof saved?.body !== 'string' || typeof saved.headers !== 'object') throw new UsageError('--request must hold {"headers": {...}, "body": "<the raw body as a string>"}.');
    body = saved.body;
    headers = { ...saved.headers };
  } else if (flags.body !== undefined) {
    body = flags.body === '-' ? readFileSync(0, 'utf8') : readText(flags.body);
  } else {
    throw new UsageError('Give --request FILE, or --body FILE with --headers FILE or --header "name: value".');
  }
  if (flags.headers !== undefined) Object.assign(headers, readJson(flags.headers));
  for (const line of flags.header ?? []) {
    const colon = line.indexOf(':');
    if (colon < 1) throw new UsageError(`--header "${line}" is not "name: value".`);
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const tolerance = flags.tolerance === undefined ? 300 : Number(flags.tolerance);
  if (!Number.isFinite(tolerance) || tolerance < 0) throw new UsageError('--tolerance must be a number of seconds.');
  const events = await verifyWebhook(body, headers, flags.secret, {
    // A saved webhook is old by nature: --ignore-timestamp checks the signature only.
    toleranceSeconds: flags.ignoreTimestamp ? Number.MAX_SAFE_INTEGER : tolerance,
  });
  if (ctx.json) return ctx.printJson({ valid: true, events });
  ctx.line(`valid: signed by this secret (${Array.isArray(events) ? events.length : 0} event(s))`);
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`Cannot read ${file}.`);
  }
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readText(file));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${file} is not JSON.`);
  }
}
