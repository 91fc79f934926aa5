/**
 * `@triggers/core/testing`: helpers for tests of code built on the core (temp data folders, the
 * SQLite file name, cursors as the adapters encode them) and the engine probes and clean-ups the
 * test harness uses. Each engine helper loads its adapter's module only when called, so a test
 * whose engine is absent never loads that engine's SDK.
 */
export { heldQueueMessages, makeTempDataDir, temporaryDatabases } from '../backends/sqlite/testing.ts';
export { DATABASE_FILE } from '../backends/sqlite/database.ts';
export { encodeCursor } from '../backends/cursor.ts';
export { httpClient, type HttpClient, type RequestOptions, type TestResponse } from './http-client.ts';

/** Resolves when a PostgreSQL server answers at `url`. */
export async function probePostgres(url: string): Promise<void> {
  return (await import('../backends/postgres/testing.ts')).probePostgres(url);
}

/** Resolves when a Redis server answers PING at `url`. */
export async function probeRedis(url: string): Promise<void> {
  return (await import('../backends/redis/testing.ts')).probeRedis(url);
}

/** Resolves when a Kafka broker answers a metadata request at `brokers` (comma-separated). */
export async function probeKafka(brokers: string): Promise<void> {
  return (await import('../backends/kafka/testing.ts')).probeKafka(brokers);
}

/** Resolves when a DynamoDB endpoint lists its tables. */
export async function probeDynamoDb(endpoint: string): Promise<void> {
  return (await import('../backends/dynamodb/testing.ts')).DYNAMODB_ENGINE.probe(endpoint);
}

/** Resolves when an SQS endpoint lists its queues. */
export async function probeSqs(endpoint: string): Promise<void> {
  return (await import('../backends/sqs/testing.ts')).SQS_ENGINE.probe(endpoint);
}

/** Deletes a DynamoDB table a test created (missing is fine). */
export async function deleteDynamoDbTable(endpoint: string, table: string): Promise<void> {
  return (await import('../backends/dynamodb/testing.ts')).deleteTable(endpoint, table);
}

/** Deletes every SQS queue whose name starts with `prefix`. */
export async function deleteSqsQueues(endpoint: string, prefix: string): Promise<void> {
  return (await import('../backends/sqs/testing.ts')).deleteQueues(endpoint, prefix);
}
