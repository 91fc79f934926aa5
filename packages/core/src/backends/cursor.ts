import { TriggersError } from '../errors.ts';

/**
 * Opaque page cursors shared by every backend: base64url of a small JSON object. Clients must
 * not read them; backends validate the decoded shape and treat anything else as a bad request.
 */
export function encodeCursor(position: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

/** Decodes a cursor and checks its shape; a cursor that fails either throws `invalid_request`. */
export function decodeCursor<T>(cursor: string, isValid: (value: unknown) => value is T): T {
  let value: unknown;
  try {
    if (!/^[A-Za-z0-9_-]{1,2048}$/.test(cursor)) throw new Error('not base64url');
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!isValid(value)) throw invalidCursor();
  return value;
}

function invalidCursor(): TriggersError {
  return new TriggersError('invalid_request', { detail: 'cursor is not valid' });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The page size every listing accepts: a whole number from 1 to 1000, else `invalid_request`. */
export function checkPageLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new TriggersError('invalid_request', { detail: 'limit must be a whole number from 1 to 1000' });
  }
  return limit;
}
