import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { createMigrationSource, MIGRATIONS, runMigrations } from './index.ts';

/** Migration 0013 on a database that already holds replays with outcomes (an upgrade). */
describe('migration 0013: replay counts on the job row', function () {
  let dir: string;
  let knex: Knex;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'triggers-0013-'));
    knex = knexFactory({ client: 'better-sqlite3', connection: { filename: path.join(dir, 'db.sqlite') }, useNullAsDefault: true });
  });
  after(async () => {
    await knex?.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('fills the counts from the outcomes recorded before it, then the trigger counts each new outcome once', async function () {
    const before0013 = MIGRATIONS.slice(0, MIGRATIONS.findIndex((m) => m.name === '0013_replay_counters'));
    await knex.migrate.latest({ migrationSource: { ...createMigrationSource({}), getMigrations: async () => [...before0013] }, tableName: 'knex_migrations' });
    const job = { replay_id: 'r-1', customer_id: 'c-1', filter: '{}', status: 'running', created_at: 1, updated_at: 1 };
    await knex('replays').insert([job, { ...job, replay_id: 'r-2' }]);
    await knex('replay_outcomes').insert([
      { replay_id: 'r-1', delivery_id: 'd-1', outcome: 'delivered' },
      { replay_id: 'r-1', delivery_id: 'd-2', outcome: 'delivered' },
      { replay_id: 'r-1', delivery_id: 'd-3', outcome: 'failed' },
    ]);

    await runMigrations(knex);
    const counts = async () => knex('replays').select('replay_id', 'delivered', 'failed').orderBy('replay_id');
    assert.deepEqual(await counts(), [{ replay_id: 'r-1', delivered: 2, failed: 1 }, { replay_id: 'r-2', delivered: 0, failed: 0 }]);

    await knex.raw("INSERT INTO replay_outcomes (replay_id, delivery_id, outcome) VALUES ('r-2', 'd-9', 'failed'), ('r-1', 'd-1', 'delivered') ON CONFLICT DO NOTHING");
    assert.deepEqual(await counts(), [{ replay_id: 'r-1', delivered: 2, failed: 1 }, { replay_id: 'r-2', delivered: 0, failed: 1 }], 'a repeated outcome inserts nothing and counts nothing');
  });
});
