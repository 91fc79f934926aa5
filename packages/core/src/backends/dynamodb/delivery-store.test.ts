import { deliveryStoreConformance, requireEngine } from '@triggers/testkit';
import { DYNAMODB_ENGINE, temporaryTable } from './testing.ts';

describe('DynamoDB delivery store', function () {
  const engine = requireEngine(DYNAMODB_ENGINE);
  const table = temporaryTable(() => engine.address);
  after(() => table.cleanup());

  deliveryStoreConformance(async () => {
    const backends = await table.open();
    return { deliveryStore: backends.deliveryStore, eventStore: backends.eventStore, close: async () => undefined };
  });
});
