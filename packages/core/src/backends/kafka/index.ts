import type { Queue } from '../../ports/queue.ts';
import type { Logger } from '../../log.ts';

export interface KafkaQueueOptions {
  brokers: string[];
  topicPrefix: string;
  maxReceives: number;
  log: Logger;
}

// PLACEHOLDER (issue 4, in progress): replaced by the kafkajs adapter.
export async function openKafkaQueue(_options: KafkaQueueOptions): Promise<Queue> {
  throw new Error('The Kafka queue is not built yet');
}
