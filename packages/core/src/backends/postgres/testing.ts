import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgresDatabase, type PostgresDatabase } from './database.ts';

/** Whether a PostgreSQL server answers at `url` (for the tests' engine check). */
export async function probePostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A fresh schema name, so suites running at once (or one after another) never see each other's rows. */
export function uniqueSchemaName(label = 'test'): string {
  return `triggers_${label}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/**
 * Opens databases in fresh schemas of the server at `url` for one test file, and drops them all
 * afterwards: call `open()` as often as needed, and `dropAll()` in an `after` hook.
 */
export function temporarySchemas(url: () => string, label?: string): {
  /** Opens (migrating) a pool on a new schema, or on `schema`; closed and dropped by `dropAll`. */
  open(schema?: string, poolMax?: number): Promise<PostgresDatabase>;
  newSchemaName(): string;
  dropAll(): Promise<void>;
} {
  const opened: PostgresDatabase[] = [];
  const schemas = new Set<string>();
  return {
    newSchemaName() {
      const schema = uniqueSchemaName(label);
      schemas.add(schema);
      return schema;
    },
    async open(schema?: string, poolMax = 10) {
      const name = schema ?? this.newSchemaName();
      schemas.add(name);
      const db = await openPostgresDatabase({ url: url(), poolMax, schema: name });
      opened.push(db);
      return db;
    },
    async dropAll() {
      for (const db of opened.splice(0)) await db.destroy().catch(() => undefined);
      if (schemas.size === 0) return;
      const client = new pg.Client({ connectionString: url() });
      client.on('error', () => undefined);
      await client.connect();
      try {
        for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end().catch(() => undefined);
      }
      schemas.clear();
    },
  };
}

/** The tests' PostgreSQL: `TRIGGERS_TEST_POSTGRES_URL`, for testkit's `requireEngine`. */
export const POSTGRES_TEST_ENGINE = {
  name: 'PostgreSQL',
  variable: 'TRIGGERS_TEST_POSTGRES_URL',
  probe: probePostgres,
  hint: 'start one with scripts/engines/postgres.sh start and set TRIGGERS_TEST_POSTGRES_URL=$(scripts/engines/postgres.sh url)',
} as const;
