import type { Statement } from 'better-sqlite3';
import { SqlReplayStore, type SqlRunner } from '../sql/replay-store.ts';
import type { SqliteDatabase } from './database.ts';
import { withSqlite } from './errors.ts';

/** Replay jobs in the embedded SQLite file (the statements are shared with PostgreSQL). */
export function createSqliteReplayStore(db: SqliteDatabase): SqlReplayStore {
  const statements = new Map<string, Statement<unknown[]>>();
  const prepared = (sql: string) => {
    let statement = statements.get(sql);
    if (!statement) statements.set(sql, (statement = db.prepare<unknown[]>(sql)));
    return statement;
  };
  const runner: SqlRunner = {
    async rows<T>(action: string, sql: string, params: readonly unknown[]) {
      return withSqlite(action, () => prepared(sql).all(...params) as T[]);
    },
    async run(action: string, sql: string, params: readonly unknown[]) {
      return withSqlite(action, () => prepared(sql).run(...params).changes);
    },
  };
  return new SqlReplayStore('sqlite', runner);
}
