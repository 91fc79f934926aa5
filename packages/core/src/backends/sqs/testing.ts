import { randomBytes } from 'node:crypto';
import { DeleteQueueCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { awsClientConfig } from '../aws.ts';

export const SQS_ENGINE = {
  name: 'SQS (ElasticMQ)',
  variable: 'TRIGGERS_TEST_SQS_ENDPOINT',
  hint: 'start one with scripts/engines/elasticmq.sh start and set TRIGGERS_TEST_SQS_ENDPOINT=http://127.0.0.1:19324',
  probe: async (endpoint: string) => {
    const client = new SQSClient(awsClientConfig({ endpoint, region: 'us-east-1', requestTimeoutMs: 3000 }));
    try {
      await client.send(new ListQueuesCommand({ MaxResults: 1 }));
    } finally {
      client.destroy();
    }
  },
};

/** A queue prefix of its own for each test, so tests and runs never share a queue. */
export function testQueuePrefix(): string {
  return `triggers-test-${randomBytes(6).toString('hex')}`;
}

/** Removes every queue whose name starts with `prefix` (a test's four queues). */
export async function deleteQueues(endpoint: string, prefix: string): Promise<void> {
  const client = new SQSClient(awsClientConfig({ endpoint, region: 'us-east-1', requestTimeoutMs: 10_000 }));
  try {
    const { QueueUrls = [] } = await client.send(new ListQueuesCommand({ QueueNamePrefix: prefix }));
    for (const url of QueueUrls) await client.send(new DeleteQueueCommand({ QueueUrl: url }));
  } catch {
    // The engine stopped: nothing to clean up.
  } finally {
    client.destroy();
  }
}
