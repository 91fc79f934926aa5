import type { Queue } from '../../ports/queue.ts';
import { KafkaQueue, type KafkaQueueOptions } from './queue.ts';

export { KafkaQueue, type KafkaQueueOptions } from './queue.ts';
export { groupTimingFor, takeoverBoundMs, type GroupTiming } from './topic-consumer.ts';

/** Connects to the brokers, creates missing topics, and returns the Queue port on Kafka. */
export async function openKafkaQueue(options: KafkaQueueOptions): Promise<Queue> {
  return KafkaQueue.open(options);
}
