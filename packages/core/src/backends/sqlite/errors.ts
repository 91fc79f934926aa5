import { coerceError, DependencyError, TriggersError } from '../../errors.ts';

/** Result codes after which the same statement can succeed later (lock contention, I/O, space). */
const RETRYABLE_CODES = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|PROTOCOL|NOMEM|INTERRUPT)/;

/** Wraps whatever better-sqlite3 threw in a `DependencyError`; our own errors pass through. */
export function toSqliteDependencyError(thrown: unknown, action: string): Error {
  if (thrown instanceof TriggersError || thrown instanceof DependencyError) return thrown;
  const error = coerceError(thrown);
  const code = (error as { code?: unknown }).code;
  const codeText = typeof code === 'string' ? code : undefined;
  return new DependencyError('sqlite', `${action} failed${codeText ? ` (${codeText})` : ''}: ${error.message}`, {
    cause: error,
    retryable: codeText !== undefined && RETRYABLE_CODES.test(codeText),
    // The disk (or its quota) is full: the transaction was rolled back; it succeeds once space returns.
    reason: codeText === 'SQLITE_FULL' || (error as NodeJS.ErrnoException).code === 'ENOSPC' ? 'storage_full' : undefined,
  });
}

/** Runs synchronous SQLite work, translating failures. Use inside `async` methods so they reject. */
export function withSqlite<T>(action: string, work: () => T): T {
  try {
    return work();
  } catch (thrown) {
    throw toSqliteDependencyError(thrown, action);
  }
}
