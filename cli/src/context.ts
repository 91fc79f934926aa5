import { Triggers } from '@triggers/sdk';
import { requireApiKey, resolveConnection, type ConnectionFlags } from './config.ts';
import { UsageError } from './exit-codes.ts';

/** What every command gets: where to write, whether to write JSON, and a client built from the global flags. */
export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export interface GlobalFlags extends ConnectionFlags {
  json?: boolean;
  timeout?: string;
}

export class CommandContext {
  constructor(
    readonly io: Io,
    private readonly flags: () => GlobalFlags,
  ) {}

  get json(): boolean {
    return this.flags().json === true;
  }

  client(): Triggers {
    const flags = this.flags();
    const connection = resolveConnection(flags, this.io.env);
    const timeoutMs = flags.timeout === undefined ? undefined : Number(flags.timeout) * 1000;
    return new Triggers({ baseUrl: connection.url, apiKey: requireApiKey(connection), timeoutMs, userAgent: 'triggers-cli/0.1.0' });
  }

  /** One line on stdout. */
  line(text = ''): void {
    this.io.stdout.write(`${text}\n`);
  }

  /** A value as pretty JSON (or one line with `compact`, for NDJSON streams). */
  printJson(value: unknown, compact = false): void {
    this.io.stdout.write(`${compact ? JSON.stringify(value) : JSON.stringify(value, null, 2)}\n`);
  }

  /** Progress and notes go to stderr, so stdout stays parseable. */
  note(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }
}

/** Rows as aligned columns under a header. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const format = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  return [format(headers), ...rows.map(format)].join('\n');
}

/** Parses a JSON argument, or exits 2 saying which argument was not JSON. */
export function parseJsonArgument(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${what} is not valid JSON: ${text.length > 80 ? `${text.slice(0, 80)}…` : text}`);
  }
}
