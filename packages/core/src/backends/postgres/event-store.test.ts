import { eventStoreConformance, requireEngine } from '@triggers/testkit';
import { createPostgresEventStore } from './event-store.ts';
import { POSTGRES_TEST_ENGINE, temporarySchemas } from './testing.ts';

describe('PostgreSQL event store', function () {
  const postgres = requireEngine(POSTGRES_TEST_ENGINE);
  const schemas = temporarySchemas(() => postgres.address, 'events');
  after(() => schemas.dropAll());

  eventStoreConformance(async () => createPostgresEventStore(await schemas.open()), { maxAtomicBatch: 10_000 });
});
