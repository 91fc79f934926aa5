import assert from 'node:assert/strict';
import pg from 'pg';
import { requireEngine, uniqueId } from '@triggers/testkit';
import { DependencyError } from '../../errors.ts';
import { MIGRATIONS } from '../../migrations/index.ts';
import { openPostgresDatabase } from './database.ts';
import { openPostgresBackends } from './index.ts';
import { createPostgresMetadataStore } from './metadata-store.ts';
import { query } from './sql.ts';
import { POSTGRES_TEST_ENGINE, temporarySchemas } from './testing.ts';
import { createLogger } from '../../log.ts';
import { createSecretCipher, generateSecretKeyText } from '../../secret-cipher.ts';

const secrets = createSecretCipher({ current: generateSecretKeyText() });

const silent = createLogger({ level: 'silent', service: 'test' });

describe('PostgreSQL database', function () {
  describe('on a running server', function () {
    const postgres = requireEngine(POSTGRES_TEST_ENGINE);
    const schemas = temporarySchemas(() => postgres.address, 'db');
    after(() => schemas.dropAll());

    it('migrates a new schema once when several replicas open it at the same moment', async function () {
      this.timeout(60_000);
      const schema = schemas.newSchemaName();
      const opened = await Promise.all(Array.from({ length: 6 }, () => schemas.open(schema, 2)));
      const { rows } = await query<{ name: string }>(opened[0], 'SELECT name FROM knex_migrations ORDER BY id');
      assert.deepEqual(rows.map((r) => r.name), MIGRATIONS.map((m) => m.name));
      const tables = await query<{ n: number }>(opened[0], "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = ? AND table_name = 'events'", [schema]);
      assert.equal(tables.rows[0].n, 1, 'the tables are in the chosen schema');
    });

    it('starts even when a crashed replica left the knex migration lock set', async function () {
      const schema = schemas.newSchemaName();
      const first = await schemas.open(schema, 1);
      await query(first, 'UPDATE knex_migrations_lock SET is_locked = 1');
      const second = await schemas.open(schema, 1);
      assert.equal((await query<{ is_locked: number }>(second, 'SELECT is_locked FROM knex_migrations_lock')).rows[0].is_locked, 0);
    });

    it('waits for the replica holding the migration advisory lock, and gives up after the timeout', async function () {
      const schema = schemas.newSchemaName();
      await schemas.open(schema, 1);
      const holder = new pg.Client({ connectionString: postgres.address });
      await holder.connect();
      try {
        await holder.query('SELECT pg_advisory_lock($1, hashtext($2))', [0x7472, schema]);
        const started = Date.now();
        await assert.rejects(openPostgresDatabase({ url: postgres.address, poolMax: 1, schema, migrationLockTimeoutMs: 300 }), (error: unknown) => {
          assert.ok(error instanceof DependencyError, String(error));
          assert.equal(error.retryable, true);
          assert.match(error.message, /migration lock/);
          return true;
        });
        assert.ok(Date.now() - started >= 250, 'it waited');
      } finally {
        await holder.end();
      }
    });

    it('reads bigint columns as numbers', async function () {
      const db = await schemas.open();
      const { rows } = await query<{ big: unknown; counted: unknown; summed: unknown }>(db, 'SELECT 1700000000000::bigint AS big, count(*) AS counted, sum(1) AS summed');
      assert.deepEqual(rows[0], { big: 1_700_000_000_000, counted: 1, summed: 1 });
    });

    it('reports a violated constraint as a DependencyError that a retry cannot fix', async function () {
      const store = createPostgresMetadataStore(await schemas.open(), secrets);
      const customer = { customerId: uniqueId(), name: 'A', email: 'a@example.com', status: 'active' as const, rateLimitPerSecond: null, isTest: false, createdAt: Date.now() };
      await store.createCustomer(customer);
      await assert.rejects(store.createCustomer(customer), (error: unknown) => {
        assert.ok(error instanceof DependencyError);
        assert.equal(error.backend, 'postgres');
        assert.equal(error.retryable, false);
        return true;
      });
    });

    it('opens every PostgreSQL backend on one pool, answers ping, and closes', async function () {
      const schema = schemas.newSchemaName();
      const backends = await openPostgresBackends({ url: postgres.address, poolMax: 2, log: silent, schema, secrets });
      await backends.ping();
      await backends.eventStore.ping();
      await backends.close();
      await backends.close();
    });
  });

  it('fails with a retryable DependencyError when nothing listens at the address', async function () {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    await assert.rejects(openPostgresBackends({ url: 'postgres://postgres@127.0.0.1:1/none', poolMax: 1, log: silent, secrets }), (error: unknown) => {
      assert.ok(error instanceof DependencyError, String(error));
      assert.equal(error.backend, 'postgres');
      assert.equal(error.retryable, true);
      assert.match(error.message, /ECONNREFUSED/);
      return true;
    });
  });
});
