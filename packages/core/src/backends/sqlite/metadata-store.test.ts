import { metadataStoreConformance } from '@triggers/testkit';
import { createSqliteMetadataStore } from './metadata-store.ts';
import { temporaryDatabases } from './testing.ts';

describe('SQLite metadata store', function () {
  const databases = temporaryDatabases();
  after(() => databases.closeAll());

  metadataStoreConformance(async () => createSqliteMetadataStore(await databases.open()));
});
