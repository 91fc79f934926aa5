import fs from 'node:fs';
import path from 'node:path';
import { metadataSecretsConformance, metadataStoreConformance } from '@triggers/testkit';
import { createSecretCipher, generateSecretKeyText, type SecretCipher } from '../../secret-cipher.ts';
import { createSqliteMetadataStore } from './metadata-store.ts';
import { DATABASE_FILE, openSqliteDatabase, type SqliteDatabase } from './database.ts';
import { temporaryDatabases } from './testing.ts';

describe('SQLite metadata store', function () {
  const databases = temporaryDatabases();
  after(() => databases.closeAll());

  metadataStoreConformance(async () => createSqliteMetadataStore(await databases.open(), createSecretCipher({ current: generateSecretKeyText() })));

  metadataSecretsConformance(async (cipher) => {
    const dataDir = databases.makeDir();
    const openWith = async (secrets: SecretCipher | undefined) => {
      const db = await openSqliteDatabase({ dataDir, synchronous: 'normal', secrets });
      return { db, store: createSqliteMetadataStore(db, secrets ?? createSecretCipher({ current: generateSecretKeyText() })) };
    };
    let current: { db: SqliteDatabase; store: ReturnType<typeof createSqliteMetadataStore> } = await openWith(cipher);
    const close = () => {
      if (current.db.open) current.db.close();
    };
    return {
      get store() {
        return current.store;
      },
      async reopen(secrets) {
        close();
        current = await openWith(secrets);
        return current.store;
      },
      async sql(statement, bindings = []) {
        const prepared = current.db.prepare(statement);
        return prepared.reader ? (prepared.all(...bindings) as Record<string, unknown>[]) : (prepared.run(...bindings), []);
      },
      async dump() {
        // The database file and its write-ahead log: what a copy of the data folder holds.
        return [DATABASE_FILE, `${DATABASE_FILE}-wal`]
          .map((name) => path.join(dataDir, name))
          .filter((file) => fs.existsSync(file))
          .map((file) => fs.readFileSync(file).toString('latin1'))
          .join('\n');
      },
      async close() {
        close();
      },
    };
  });
});
