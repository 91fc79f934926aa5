import { randomBytes } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { awsClientConfig } from '../aws.ts';
import { openDynamoBackends, type DynamoBackends } from './index.ts';

export const DYNAMODB_ENGINE = {
  name: 'DynamoDB',
  variable: 'TRIGGERS_TEST_DYNAMODB_ENDPOINT',
  hint: 'start one with scripts/engines/dynamodb.sh start and set TRIGGERS_TEST_DYNAMODB_ENDPOINT=http://127.0.0.1:18000',
  probe: async (endpoint: string) => {
    const client = new DynamoDBClient(awsClientConfig({ endpoint, region: 'us-east-1', requestTimeoutMs: 3000 }));
    try {
      await client.send(new ListTablesCommand({ Limit: 1 }));
    } finally {
      client.destroy();
    }
  },
};

/** A table name of its own for each test run, so runs never see each other's items. */
export function testTableName(): string {
  return `triggers-test-${randomBytes(6).toString('hex')}`;
}

export async function deleteTable(endpoint: string, table: string): Promise<void> {
  const client = new DynamoDBClient(awsClientConfig({ endpoint, region: 'us-east-1', requestTimeoutMs: 10_000 }));
  try {
    await client.send(new DeleteTableCommand({ TableName: table }));
  } catch {
    // Already gone, or the engine stopped: nothing to clean up.
  } finally {
    client.destroy();
  }
}

/**
 * Backends on one fresh table for a test file (three shards: every inbox page merges several
 * partitions, and the count is not a power of two). `open()` as often as needed; `cleanup()` in
 * an `after` hook closes them and deletes the table (nothing to do when the engine never answered).
 */
export function temporaryTable(endpoint: () => string): { open(): Promise<DynamoBackends>; cleanup(): Promise<void> } {
  const table = testTableName();
  const opened: DynamoBackends[] = [];
  return {
    async open() {
      const backends = await openDynamoBackends({ endpoint: endpoint(), region: 'us-east-1', table, shards: 3, ttlDays: 90 });
      opened.push(backends);
      return backends;
    },
    async cleanup() {
      if (opened.length === 0) return;
      for (const backends of opened.splice(0)) await backends.close();
      await deleteTable(endpoint(), table);
    },
  };
}
