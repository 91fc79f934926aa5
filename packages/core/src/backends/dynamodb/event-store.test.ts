import { eventStoreConformance, requireEngine } from '@triggers/testkit';
import { MAX_TRANSACTION_ITEMS } from './event-store.ts';
import { DYNAMODB_ENGINE, temporaryTable } from './testing.ts';

describe('DynamoDB event store', function () {
  const engine = requireEngine(DYNAMODB_ENGINE);
  const table = temporaryTable(() => engine.address);
  after(() => table.cleanup());

  eventStoreConformance(async () => (await table.open()).eventStore, { maxAtomicBatch: MAX_TRANSACTION_ITEMS });
});
