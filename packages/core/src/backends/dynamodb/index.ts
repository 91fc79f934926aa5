import type { EventStore } from '../../ports/event-store.ts';
import type { DeliveryStore } from '../../ports/delivery-store.ts';

export interface DynamoBackendsOptions {
  /** Unset: the AWS default endpoint for the region. */
  endpoint?: string;
  region: string;
  table: string;
  /** Partition key `customer_id#shard`: shards per customer. */
  shards: number;
  ttlDays: number;
}

export interface DynamoBackends {
  eventStore: EventStore;
  deliveryStore: DeliveryStore;
  ping(): Promise<void>;
  close(): Promise<void>;
}

// PLACEHOLDER (issue 4, in progress): replaced by the @aws-sdk/lib-dynamodb adapters.
export async function openDynamoBackends(_options: DynamoBackendsOptions): Promise<DynamoBackends> {
  throw new Error('The DynamoDB backend is not built yet');
}
