import { coerceError, DependencyError, TriggersError } from '../../errors.ts';

/** Socket-level failures: the server is down, restarting or unreachable; it may be back soon. */
const RETRYABLE_NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);

/**
 * SQLSTATEs after which the same statement can succeed later: connection exceptions (08),
 * serialization failures and deadlocks (40001, 40P01), insufficient resources (53), operator
 * intervention such as a shutdown or a cancelled statement (57), a lock not available (55P03).
 * Everything else (constraint violations, bad input, syntax, permissions) fails the same way again.
 */
function isRetryableSqlState(code: string): boolean {
  return /^(08|53|57)/.test(code) || code === '40001' || code === '40P01' || code === '55P03';
}

/** The pg and pool messages of a connection that broke with no SQLSTATE or errno. */
const RETRYABLE_MESSAGES = /Connection terminated|Connection ended|timeout exceeded when trying to connect|Timeout acquiring a connection|Client has encountered a connection error|the database system is (starting up|shutting down)|not queryable/i;

/** Wraps whatever knex or pg threw in a `DependencyError`; our own errors pass through. */
export function toPostgresDependencyError(thrown: unknown, action: string): Error {
  if (thrown instanceof TriggersError || thrown instanceof DependencyError) return thrown;
  const error = coerceError(thrown);
  const code = errorCode(error);
  const codeText = typeof code === 'string' ? code : undefined;
  const retryable =
    codeText !== undefined
      ? RETRYABLE_NETWORK_CODES.has(codeText) || (/^[0-9A-Z]{5}$/.test(codeText) && isRetryableSqlState(codeText))
      : error.name === 'KnexTimeoutError' || RETRYABLE_MESSAGES.test(error.message);
  return new DependencyError('postgres', `${action} failed${codeText ? ` (${codeText})` : ''}: ${error.message}`, { cause: error, retryable });
}

/** The errno or SQLSTATE; a refused `localhost` (IPv4 and IPv6 tried) comes as an AggregateError of them. */
export function errorCode(error: Error): unknown {
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) return code;
  if (error instanceof AggregateError) return (error.errors[0] as { code?: unknown } | undefined)?.code;
  return undefined;
}

/** Runs PostgreSQL work, translating failures into `DependencyError`. */
export async function withPostgres<T>(action: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (thrown) {
    throw toPostgresDependencyError(thrown, action);
  }
}
