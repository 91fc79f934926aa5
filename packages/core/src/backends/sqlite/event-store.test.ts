import { eventStoreConformance } from '@triggers/testkit';
import { createSqliteEventStore } from './event-store.ts';
import { temporaryDatabases } from './testing.ts';

describe('SQLite event store', function () {
  const databases = temporaryDatabases();
  after(() => databases.closeAll());

  eventStoreConformance(async () => createSqliteEventStore(await databases.open()), { maxAtomicBatch: 10_000 });
});
