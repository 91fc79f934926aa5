import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EventStore } from '../../ports/event-store.ts';
import type { DeliveryStore } from '../../ports/delivery-store.ts';
import { awsClientConfig, toAwsDependencyError } from '../aws.ts';
import { DynamoTable, ensureTable } from './table.ts';
import { DynamoEventStore } from './event-store.ts';
import { DynamoDeliveryStore } from './delivery-store.ts';

export interface DynamoBackendsOptions {
  /** Unset: the AWS default endpoint for the region. */
  endpoint?: string;
  region: string;
  table: string;
  /**
   * Partition key `customer_id#shard`: shards per customer. The shard of an event is derived from
   * its id, so changing this later hides the events written under the old count: choose it once.
   */
  shards: number;
  /** Events, attempts and deliveries expire this many days after they were written (DynamoDB TTL). */
  ttlDays: number;
  /** Skip CreateTable/UpdateTimeToLive (the table is managed elsewhere, e.g. by Terraform). Default false. */
  skipTableSetup?: boolean;
}

export interface DynamoBackends {
  eventStore: EventStore;
  deliveryStore: DeliveryStore;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The event store and delivery store on one DynamoDB table (layout in table.ts), created with its
 * indexes and TTL on first use.
 */
export async function openDynamoBackends(options: DynamoBackendsOptions): Promise<DynamoBackends> {
  if (!Number.isInteger(options.shards) || options.shards < 1) throw new RangeError('shards must be a whole number >= 1');
  if (!(options.ttlDays > 0)) throw new RangeError('ttlDays must be > 0');
  const client = new DynamoDBClient(awsClientConfig({ endpoint: options.endpoint, region: options.region, requestTimeoutMs: 10_000 }));
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  try {
    if (!options.skipTableSetup) await ensureTable(client, options.table);
  } catch (thrown) {
    client.destroy();
    throw toAwsDependencyError('dynamodb', `setting up table ${options.table}`, thrown);
  }
  const table = new DynamoTable(doc, options.table, options.shards, Math.round(options.ttlDays * 86_400));
  const eventStore = new DynamoEventStore(table);
  const deliveryStore = new DynamoDeliveryStore(table);
  return {
    eventStore,
    deliveryStore,
    ping: () => eventStore.ping(),
    close: async () => {
      client.destroy();
    },
  };
}
