import type { Knex } from 'knex';

export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

/** The pool or a transaction: both run statements. */
export type Queryable = Knex | Knex.Transaction;

/**
 * Runs one SQL statement with `?` placeholders (knex turns them into `$1, $2, ...`). Arrays bind
 * as PostgreSQL arrays, which `unnest(?::type[])` and `= ANY(?::type[])` take apart server-side.
 */
export async function query<T = never>(db: Queryable, sql: string, bindings: readonly unknown[] = []): Promise<QueryResult<T>> {
  const result = (await db.raw(sql, bindings as readonly Knex.RawBinding[])) as { rows: T[]; rowCount: number | null };
  return { rows: result.rows, rowCount: result.rowCount ?? 0 };
}
