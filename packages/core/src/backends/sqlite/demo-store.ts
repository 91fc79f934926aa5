import type { Statement } from 'better-sqlite3';
import { systemClock, type Clock } from '../../clock.ts';
import type { DemoStore } from '../../ports/demo-store.ts';
import type { SqliteDatabase } from './database.ts';
import { withSqlite } from './errors.ts';

/** The demo's state in the `demo_state` table (migration 0003). */
export class SqliteDemoStore implements DemoStore {
  private readonly selectOne: Statement<[string], { value: string }>;
  private readonly insertIfAbsent: Statement<[string, string, number]>;
  private readonly upsert: Statement<[string, string, number]>;

  constructor(db: SqliteDatabase, private readonly clock: Clock = systemClock) {
    this.selectOne = db.prepare('SELECT value FROM demo_state WHERE name = ?');
    this.insertIfAbsent = db.prepare('INSERT INTO demo_state (name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING');
    this.upsert = db.prepare(
      'INSERT INTO demo_state (name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
    );
  }

  async get<T>(name: string): Promise<T | null> {
    const row = withSqlite('reading demo state', () => this.selectOne.get(name));
    return row ? (JSON.parse(row.value) as T) : null;
  }

  async setIfAbsent<T>(name: string, value: T): Promise<T> {
    withSqlite('writing demo state', () => this.insertIfAbsent.run(name, JSON.stringify(value), this.clock.now()));
    return (await this.get<T>(name)) as T;
  }

  async set<T>(name: string, value: T): Promise<void> {
    withSqlite('writing demo state', () => this.upsert.run(name, JSON.stringify(value), this.clock.now()));
  }
}
