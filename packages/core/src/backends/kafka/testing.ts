import { randomBytes } from 'node:crypto';
import kafkajs from 'kafkajs';
import { createLogger } from '../../log.ts';
import type { Topic } from '../../ports/queue.ts';
import { KafkaQueue, type KafkaQueueOptions } from './queue.ts';

const { Kafka, logLevel } = kafkajs;

/** Whether a broker answers a metadata request at `brokers` (comma-separated), for the tests' engine check. */
export async function probeKafka(brokers: string): Promise<void> {
  const kafka = new Kafka({ brokers: splitBrokers(brokers), logLevel: logLevel.NOTHING, connectionTimeout: 2000, retry: { retries: 0 } });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const { brokers: found } = await admin.describeCluster();
    if (found.length === 0) throw new Error('the cluster has no brokers');
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export function splitBrokers(brokers: string): string[] {
  return brokers
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
}

/** The tests' Kafka: `TRIGGERS_TEST_KAFKA_BROKERS`, for testkit's `requireEngine`. */
export const KAFKA_TEST_ENGINE = {
  name: 'Kafka',
  variable: 'TRIGGERS_TEST_KAFKA_BROKERS',
  probe: probeKafka,
  hint: 'start one with scripts/engines/kafka.sh start and set TRIGGERS_TEST_KAFKA_BROKERS=$(scripts/engines/kafka.sh brokers)',
  timeoutMs: 10_000,
} as const;

/** Group timing for tests: quick joins and rebalances (the broker runs with group.initial.rebalance.delay.ms=0). */
export const TEST_TIMING = { sessionTimeoutMs: 6000, heartbeatIntervalMs: 300, rebalanceTimeoutMs: 5000, maxWaitTimeMs: 250 } as const;

/**
 * Queues for one test file, each under a topic prefix of its own (so every queue starts with empty
 * topics and fresh groups); `cleanup()` closes them and deletes their topics.
 */
export function temporaryQueues(brokers: () => string, label = 'test') {
  const prefixes: string[] = [];
  const queues: KafkaQueue[] = [];
  const log = createLogger({ level: process.env.TRIGGERS_LOG_LEVEL ?? 'silent', service: 'kafka-test' });
  return {
    newPrefix(): string {
      const prefix = `triggers-${label}-${randomBytes(5).toString('hex')}`;
      prefixes.push(prefix);
      return prefix;
    },
    /** Opens a queue; `consume` joins those topics' groups (and the delay consumers) before returning. */
    async open(options: Partial<KafkaQueueOptions> & { consume?: Topic[] } = {}): Promise<KafkaQueue> {
      const { consume, ...rest } = options;
      const queue = await KafkaQueue.open({
        brokers: splitBrokers(brokers()),
        topicPrefix: rest.topicPrefix ?? this.newPrefix(),
        maxReceives: 3,
        log,
        partitions: 3,
        delayPartitions: 1,
        timing: TEST_TIMING,
        delayPollMs: 100,
        ...rest,
      });
      queues.push(queue);
      if (consume && consume.length > 0) await queue.startConsuming(consume);
      return queue;
    },
    async cleanup(): Promise<void> {
      await Promise.all(queues.splice(0).map((q) => q.close().catch(() => undefined)));
      if (prefixes.length === 0) return;
      const admin = new Kafka({ brokers: splitBrokers(brokers()), logLevel: logLevel.NOTHING }).admin();
      try {
        await admin.connect();
        const topics = (await admin.listTopics()).filter((t) => prefixes.some((p) => t.startsWith(`${p}-`)));
        if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
        const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => prefixes.some((p) => g.startsWith(`${p}-`)));
        if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
      } finally {
        prefixes.length = 0;
        await admin.disconnect().catch(() => undefined);
      }
    },
  };
}
