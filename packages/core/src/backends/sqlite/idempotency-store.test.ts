import { idempotencyStoreConformance } from '@triggers/testkit';
import { createSqliteIdempotencyStore } from './idempotency-store.ts';
import { temporaryDatabases } from './testing.ts';

describe('SQLite idempotency store', function () {
  const databases = temporaryDatabases();
  after(() => databases.closeAll());

  idempotencyStoreConformance(async () => createSqliteIdempotencyStore(await databases.open()), { timeUnitMs: 50 });
});
