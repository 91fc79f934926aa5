import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DATABASE_FILE, openSqliteDatabase, type SqliteDatabase } from './database.ts';

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

/**
 * The queue messages of a data folder's SQLite queue that a receiver holds now (received, not yet
 * acknowledged nor released): `id → owner`. Read through a read-only connection, so a test can look
 * while the server (or its corpse's files) is there. Crash tests use it to time how long the work a
 * killed process held takes to resume.
 */
export function heldQueueMessages(dataDir: string): Map<number, string> {
  const db = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const rows = db.prepare('SELECT id, owner FROM queue_messages WHERE owner IS NOT NULL AND receipt IS NOT NULL AND dead_lettered_at IS NULL').all() as { id: number; owner: string }[];
    return new Map(rows.map((r) => [r.id, r.owner]));
  } finally {
    db.close();
  }
}
