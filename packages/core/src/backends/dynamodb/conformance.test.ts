import { deliveryStoreConformance, eventStoreConformance, requireEngine } from '@triggers/testkit';
import { openDynamoBackends, type DynamoBackends } from './index.ts';
import { MAX_TRANSACTION_ITEMS } from './event-store.ts';
import { DYNAMODB_ENGINE, deleteTable, testTableName } from './testing.ts';

describe('DynamoDB event store and delivery store', function () {
  const engine = requireEngine(DYNAMODB_ENGINE);
  const table = testTableName();
  const opened: DynamoBackends[] = [];

  // Three shards: every inbox page merges several partitions, and the count is not a power of two.
  const open = async () => {
    const backends = await openDynamoBackends({ endpoint: engine.address, region: 'us-east-1', table, shards: 3, ttlDays: 90 });
    opened.push(backends);
    return backends;
  };

  let endpoint: string | undefined; // set only when the engine answered
  before(function () {
    endpoint = engine.address;
  });

  after(async function () {
    for (const backends of opened.splice(0)) await backends.close();
    if (endpoint) await deleteTable(endpoint, table);
  });

  eventStoreConformance(async () => (await open()).eventStore, { maxAtomicBatch: MAX_TRANSACTION_ITEMS });

  deliveryStoreConformance(async () => {
    const backends = await open();
    return { deliveryStore: backends.deliveryStore, eventStore: backends.eventStore, close: async () => undefined };
  });
});
