import type { Queue } from '../../ports/queue.ts';

export interface SqsQueueOptions {
  /** Unset: the AWS default endpoint for the region. */
  endpoint?: string;
  region: string;
  /** Queues are `<prefix>-events`, `<prefix>-deliveries` and their `-dlq`s. */
  queuePrefix: string;
  maxReceives: number;
}

// PLACEHOLDER (issue 4, in progress): replaced by the @aws-sdk/client-sqs adapter.
export async function openSqsQueue(_options: SqsQueueOptions): Promise<Queue> {
  throw new Error('The SQS queue is not built yet');
}
