import { SqlReplayStore } from '../sql/replay-store.ts';
import type { PostgresDatabase } from './database.ts';
import { withPostgres } from './errors.ts';
import { query } from './sql.ts';

/** Replay jobs in PostgreSQL beside the metadata (the statements are shared with SQLite). */
export function createPostgresReplayStore(db: PostgresDatabase): SqlReplayStore {
  return new SqlReplayStore('postgres', {
    rows: async <T>(action: string, sql: string, params: readonly unknown[]) => (await withPostgres(action, () => query<T>(db, sql, params))).rows,
    run: async (action: string, sql: string, params: readonly unknown[]) => (await withPostgres(action, () => query(db, sql, params))).rowCount,
  });
}
