import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DependencyError } from '../../errors.ts';
import { MIGRATIONS } from '../../migrations/index.ts';
import { DATABASE_FILE, openSqliteDatabase } from './database.ts';
import { temporaryDatabases } from './testing.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../../../..');

function runProcess(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('SQLite database', function () {
  const databases = temporaryDatabases();
  after(() => databases.closeAll());

  it('creates the folder, migrates to the latest schema and configures WAL and the busy timeout', async function () {
    const dir = path.join(databases.makeDir(), 'nested', 'data');
    const db = await databases.open(dir);
    assert.ok(fs.existsSync(path.join(dir, DATABASE_FILE)));
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('busy_timeout', { simple: true }), 5000);
    assert.equal(db.pragma('synchronous', { simple: true }), 1, 'normal, as asked');
    const applied = db.prepare('SELECT name FROM knex_migrations ORDER BY id').all() as { name: string }[];
    assert.deepEqual(applied.map((m) => m.name), MIGRATIONS.map((m) => m.name));
  });

  it('honours synchronous=full', async function () {
    const db = await databases.open(undefined, 'full');
    assert.equal(db.pragma('synchronous', { simple: true }), 2);
  });

  it('migrates once when several connections open one folder at the same moment', async function () {
    const dir = databases.makeDir();
    const opened = await Promise.all(Array.from({ length: 5 }, () => databases.open(dir)));
    const applied = opened[0].prepare('SELECT name FROM knex_migrations').all();
    assert.equal(applied.length, MIGRATIONS.length);
  });

  it('starts even when a crashed process left the knex migration lock set', async function () {
    const dir = databases.makeDir();
    const first = await databases.open(dir);
    first.prepare('UPDATE knex_migrations_lock SET is_locked = 1').run();
    const second = await databases.open(dir);
    assert.equal((second.prepare('SELECT is_locked FROM knex_migrations_lock').get() as { is_locked: number }).is_locked, 0);
  });

  it('lets several OS processes migrate and write one folder at once without losing a write', async function () {
    this.timeout(60_000);
    const dir = databases.makeDir();
    const customerId = randomUUID();
    const fixture = path.join(here, 'fixtures', 'accept-events.ts');
    const results = await Promise.all([1, 2, 3].map(() => runProcess([fixture, dir, customerId, '300'])));
    for (const result of results) assert.equal(result.code, 0, result.stderr);

    const db = await databases.open(dir);
    const count = (sql: string) => (db.prepare(sql).get(customerId) as { n: number }).n;
    assert.equal(count('SELECT COUNT(*) AS n FROM events WHERE customer_id = ?'), 900);
    // Events enqueued (a message may stand for several: `eventIds`).
    assert.equal(
      count("SELECT SUM(coalesce(json_array_length(body, '$.eventIds'), 1)) AS n FROM queue_messages WHERE topic = 'events' AND json_extract(body, '$.customerId') = ?"),
      900,
    );
  });

  it('fails with a DependencyError when the folder cannot be used', async function () {
    const file = path.join(databases.makeDir(), 'a-file');
    fs.writeFileSync(file, 'not a folder');
    await assert.rejects(openSqliteDatabase({ dataDir: file, synchronous: 'full' }), DependencyError);
  });
});
