import { deliveryStoreConformance } from '@triggers/testkit';
import { SqliteDeliveryStore } from './delivery-store.ts';
import { createSqliteEventStore } from './event-store.ts';
import { temporaryDatabases } from './testing.ts';

describe('SQLite delivery store', function () {
  const databases = temporaryDatabases();
  after(() => databases.closeAll());

  deliveryStoreConformance(async () => {
    const db = await databases.open();
    return { deliveryStore: new SqliteDeliveryStore(db), eventStore: createSqliteEventStore(db), close: async () => undefined };
  });
});
