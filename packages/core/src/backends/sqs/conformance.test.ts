import { queueConformance, requireEngine } from '@triggers/testkit';
import { SQSClient } from '@aws-sdk/client-sqs';
import { awsClientConfig } from '../aws.ts';
import { SqsQueue } from './queue.ts';
import { SQS_ENGINE, deleteQueues, testQueuePrefix } from './testing.ts';

const MAX_RECEIVES = 3;

describe('SQS queue', function () {
  const engine = requireEngine(SQS_ENGINE);
  const prefixes: string[] = [];

  afterEach(async function () {
    // The suite closes each queue; its four SQS queues are removed here.
    for (const prefix of prefixes.splice(0)) await deleteQueues(engine.address, prefix);
  });

  queueConformance(
    async () => {
      // A client per queue: the suite closes the queue, which destroys its client.
      const client = new SQSClient(awsClientConfig({ endpoint: engine.address, region: 'us-east-1', requestTimeoutMs: 30_000 }));
      const queuePrefix = testQueuePrefix();
      prefixes.push(queuePrefix);
      return SqsQueue.open(client, { queuePrefix, maxReceives: MAX_RECEIVES });
    },
    { maxReceives: MAX_RECEIVES, wakeWithinMs: 500, dueWithinMs: 1000 },
  );
});
