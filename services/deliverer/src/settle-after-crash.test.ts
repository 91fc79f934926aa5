import assert from 'node:assert/strict';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createServiceContext, loadConfig, type ServiceContext } from '@triggers/core/runtime';
import { JsonText, type NewEvent } from '@triggers/core/domain';
import { DYNAMODB, engineAddresses, POSTGRES, prepareBackends, REDIS, requireEngine, SQS, uniqueId, uuidv7At, type PreparedBackends } from '@triggers/testkit';
import { deliver, type DelivererDeps } from './deliver.ts';

/**
 * On DynamoDB, ending a delivery (one transaction: the attempt, the delivery's end, the event's
 * counters) and settling its event (a second write, from the counters) are two writes. The chaos
 * drill (bench/chaos) SIGKILLed a deliverer between them: the delivery was `succeeded`, the event
 * stayed `pending` for good, since the redelivered message found the delivery finished and did
 * nothing, and the sweeper only re-enqueues pending deliveries. The redelivered message must settle
 * the event.
 */
describe('deliverer: a message whose delivery ended but whose event was never settled (DynamoDB)', function () {
  this.timeout(60_000);
  requireEngine(DYNAMODB);
  requireEngine(POSTGRES);
  requireEngine(REDIS);
  requireEngine(SQS);
  let backends: PreparedBackends | undefined;
  let ctx: ServiceContext | undefined;
  let client: DynamoDBClient | undefined;

  before(async () => {
    backends = await prepareBackends({ eventStore: 'dynamodb', metadataStore: 'postgres', queue: 'sqs', cache: 'redis' }, engineAddresses(), 'settle-after-crash');
    ctx = await createServiceContext(loadConfig({ ...backends.env, TRIGGERS_LOG_LEVEL: 'silent' }), { service: 'settle-after-crash-test', processMetrics: false });
  });
  after(async () => {
    client?.destroy();
    await ctx?.backends.close();
    await backends?.cleanup();
  });

  it('settles the event from its deliveries, sending nothing', async () => {
    const { eventStore, deliveryStore } = ctx!.backends;
    const now = Date.now();
    const event: NewEvent = { eventId: uuidv7At(now), customerId: uniqueId(), payload: JsonText.of({ event_type: 'x' }), eventType: 'x', timestamp: now };
    await eventStore.insertEvents([event]);
    const [delivery] = await deliveryStore.createDeliveries([{ deliveryId: `msg_${uniqueId().replaceAll('-', '')}`, eventId: event.eventId, customerId: event.customerId, workflowId: uniqueId(), createdAt: now }]);
    assert.ok(await deliveryStore.incrementAttempts(delivery.deliveryId, 0, now, now + 30_000));
    const attempt = { eventId: event.eventId, customerId: event.customerId, workflowId: delivery.workflowId, deliveryId: delivery.deliveryId, attempt: 1, status: 'succeeded' as const, statusCode: 200, error: null, durationMs: 5, timestamp: now, responseBody: 'ok' };
    await deliveryStore.recordAttempts([{ deliveryId: delivery.deliveryId, attempt, next: { status: 'succeeded' }, now }]);
    assert.equal((await eventStore.getEvent(event.customerId, event.eventId))?.status, 'delivered');

    // The state a SIGKILL between the two writes leaves: the counters say delivered, the status does not.
    client = new DynamoDBClient({ endpoint: backends!.env.TRIGGERS_DYNAMODB_ENDPOINT, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const doc = DynamoDBDocumentClient.from(client);
    const table = backends!.env.TRIGGERS_DYNAMODB_TABLE;
    const { Items } = await doc.send(new ScanCommand({ TableName: table, FilterExpression: 'sk = :id AND attribute_exists(dlv_total)', ExpressionAttributeValues: { ':id': event.eventId } }));
    assert.equal(Items?.length, 1);
    const pk = Items![0].pk as string;
    await doc.send(new UpdateCommand({ TableName: table, Key: { pk, sk: event.eventId }, UpdateExpression: 'SET #s = :pending, pk_status = :pkStatus', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':pending': 'pending', ':pkStatus': `${pk}#pending` } }));
    assert.equal((await eventStore.getEvent(event.customerId, event.eventId))?.status, 'pending');

    // The dead deliverer's message comes back. Only the stores are reachable from this path: a send would throw.
    const deps = { deliveryStore, eventStore, replayStore: ctx!.backends.replayStore, clock: ctx!.clock } as DelivererDeps;
    await deliver(deps, { deliveryId: delivery.deliveryId, eventId: event.eventId, customerId: event.customerId, workflowId: delivery.workflowId, attempt: 1 });
    assert.equal((await eventStore.getEvent(event.customerId, event.eventId))?.status, 'delivered');
    assert.equal((await deliveryStore.getDelivery(delivery.deliveryId))?.status, 'succeeded');
  });
});
