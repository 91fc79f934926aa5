import { replayStoreConformance } from '@triggers/testkit';
import { createSqliteReplayStore } from './replay-store.ts';
import { temporaryDatabases } from './testing.ts';

describe('SQLite replay store', function () {
  const databases = temporaryDatabases();
  after(() => databases.closeAll());

  replayStoreConformance(async () => ({ store: createSqliteReplayStore(await databases.open()), close: async () => undefined }));
});
