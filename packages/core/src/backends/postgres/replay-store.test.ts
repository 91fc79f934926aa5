import { replayStoreConformance, requireEngine } from '@triggers/testkit';
import { createPostgresReplayStore } from './replay-store.ts';
import { POSTGRES_TEST_ENGINE, temporarySchemas } from './testing.ts';

describe('PostgreSQL replay store', function () {
  const postgres = requireEngine(POSTGRES_TEST_ENGINE);
  const schemas = temporarySchemas(() => postgres.address, 'replays');
  after(() => schemas.dropAll());

  replayStoreConformance(async () => {
    const db = await schemas.open();
    return { store: createPostgresReplayStore(db), close: () => db.destroy() };
  });
});
