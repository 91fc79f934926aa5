import { metadataSecretsConformance, metadataStoreConformance, requireEngine } from '@triggers/testkit';
import { createSecretCipher, generateSecretKeyText, type SecretCipher } from '../../secret-cipher.ts';
import { createPostgresMetadataStore } from './metadata-store.ts';
import { openPostgresDatabase, type PostgresDatabase } from './database.ts';
import { POSTGRES_TEST_ENGINE, temporarySchemas } from './testing.ts';

describe('PostgreSQL metadata store', function () {
  const postgres = requireEngine(POSTGRES_TEST_ENGINE);
  const schemas = temporarySchemas(() => postgres.address, 'metadata');
  after(() => schemas.dropAll());

  metadataStoreConformance(async () => createPostgresMetadataStore(await schemas.open(), createSecretCipher({ current: generateSecretKeyText() })));

  metadataSecretsConformance(async (cipher) => {
    const schema = schemas.newSchemaName();
    const openWith = async (secrets: SecretCipher | undefined) => {
      const db = await openPostgresDatabase({ url: postgres.address, poolMax: 2, schema, secrets });
      return { db, store: createPostgresMetadataStore(db, secrets ?? createSecretCipher({ current: generateSecretKeyText() })) };
    };
    let current: { db: PostgresDatabase; store: ReturnType<typeof createPostgresMetadataStore> } = await openWith(cipher);
    return {
      get store() {
        return current.store;
      },
      async reopen(secrets) {
        await current.db.destroy();
        current = await openWith(secrets);
        return current.store;
      },
      async sql(statement, bindings = []) {
        const result = await current.db.raw(statement, bindings as never[]);
        return (result.rows ?? []) as Record<string, unknown>[];
      },
      async dump() {
        // Every row of every table of the schema, as text: what pg_dump would write.
        const tables = await current.db.raw<{ rows: { name: string }[] }>('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ?', [schema]);
        const parts: string[] = [];
        for (const { name } of tables.rows) {
          const rows = await current.db.raw<{ rows: { row: string }[] }>(`SELECT t::text AS row FROM "${schema}"."${name}" t`);
          parts.push(...rows.rows.map((r) => r.row));
        }
        return parts.join('\n');
      },
      async close() {
        await current.db.destroy().catch(() => undefined);
      },
    };
  });
});
