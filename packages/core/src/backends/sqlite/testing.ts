import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteDatabase, type SqliteDatabase } from './database.ts';

/** A fresh, empty data folder under the OS temp directory. */
export function makeTempDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'triggers-sqlite-'));
}

/**
 * Opens databases in fresh temp folders for one test file and removes them all afterwards:
 * call `open()` as often as needed, and `closeAll()` in an `after` hook.
 */
export function temporaryDatabases(): {
  /** A fresh temp folder, removed by `closeAll`. */
  makeDir(): string;
  /** Opens (migrating) a database in `dataDir`, or in a fresh temp folder; closed by `closeAll`. */
  open(dataDir?: string, synchronous?: 'full' | 'normal'): Promise<SqliteDatabase>;
  closeAll(): void;
} {
  const opened: SqliteDatabase[] = [];
  const dirs = new Set<string>();
  return {
    makeDir() {
      const dir = makeTempDataDir();
      dirs.add(dir);
      return dir;
    },
    async open(dataDir?: string, synchronous: 'full' | 'normal' = 'normal') {
      const dir = dataDir ?? makeTempDataDir();
      dirs.add(dir);
      const db = await openSqliteDatabase({ dataDir: dir, synchronous });
      opened.push(db);
      return db;
    },
    closeAll() {
      for (const db of opened.splice(0)) if (db.open) db.close();
      for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
      dirs.clear();
    },
  };
}
