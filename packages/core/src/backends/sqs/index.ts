import { SQSClient } from '@aws-sdk/client-sqs';
import type { Queue } from '../../ports/queue.ts';
import { awsClientConfig } from '../aws.ts';
import { SqsQueue } from './queue.ts';

export interface SqsQueueOptions {
  /** Unset: the AWS default endpoint for the region. */
  endpoint?: string;
  region: string;
  /** Queues are `<prefix>-events`, `<prefix>-deliveries` and their `-dlq`s. */
  queuePrefix: string;
  maxReceives: number;
}

/** The queue on SQS; creates its queues (and dead-letter queues) when they are missing. */
export async function openSqsQueue(options: SqsQueueOptions): Promise<Queue> {
  // Long polls wait up to 20 s: the request timeout must outlast them.
  const client = new SQSClient(awsClientConfig({ endpoint: options.endpoint, region: options.region, requestTimeoutMs: 30_000 }));
  try {
    return await SqsQueue.open(client, { queuePrefix: options.queuePrefix, maxReceives: options.maxReceives });
  } catch (error) {
    client.destroy();
    throw error;
  }
}
