/**
 * A Kafka consumer process for the crash tests (queue-crash.test.ts), so a test can SIGKILL a
 * member of a consumer group. Settings come as JSON in `TRIGGERS_TEST_KAFKA_CHILD`; it reports on
 * stdout, one line each:
 * - `ready <partitions JSON>` once it joined the group of `deliveries`;
 * - mode `hold`: `held <ids JSON>` whenever it received more (it never acks nor extends them);
 * - mode `poison`: runs the queue consumer; `handled <seq>` after each message it acked, and it
 *   SIGKILLs itself while handling the message whose body has `seq === poisonSeq`.
 * It kills itself if the test process goes away.
 */
import { createLogger } from '../../log.ts';
import { startConsumer } from '../../queue-consumer.ts';
import type { GroupTiming } from './topic-consumer.ts';
import { KafkaQueue } from './queue.ts';

export interface ConsumerChildSettings {
  brokers: string[];
  topicPrefix: string;
  maxReceives: number;
  timing: GroupTiming;
  mode: 'hold' | 'poison';
  poisonSeq?: number;
}

const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL');
}, 250).unref();

const settings = JSON.parse(process.env.TRIGGERS_TEST_KAFKA_CHILD ?? '{}') as ConsumerChildSettings;
const log = createLogger({ level: process.env.TRIGGERS_LOG_LEVEL ?? 'silent', service: 'kafka-consumer-child' });
const queue = await KafkaQueue.open({ brokers: settings.brokers, topicPrefix: settings.topicPrefix, maxReceives: settings.maxReceives, timing: settings.timing, log, delayPollMs: 100 });
await queue.startConsuming(['deliveries']);
process.stdout.write(`ready ${JSON.stringify(queue.assignedPartitions('deliveries'))}\n`);

if (settings.mode === 'hold') {
  const held: string[] = [];
  for (;;) {
    const received = await queue.receive('deliveries', { maxMessages: 100, visibilityTimeoutMs: 600_000, waitTimeMs: 1000 });
    if (received.length === 0) continue;
    held.push(...received.map((m) => m.id));
    process.stdout.write(`held ${JSON.stringify(held)}\n`);
  }
} else {
  startConsumer<{ seq: number }>({
    queue,
    topic: 'deliveries',
    log,
    concurrency: 4,
    batchSize: 4,
    visibilityTimeoutMs: 60_000,
    waitTimeMs: 500,
    async handle(message) {
      if (message.body.seq === settings.poisonSeq) process.kill(process.pid, 'SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 5));
      process.stdout.write(`handled ${message.body.seq}\n`);
    },
  });
}
