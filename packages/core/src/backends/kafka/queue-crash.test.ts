import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { requireEngine, sleep } from '@triggers/testkit';
import type { ReceivedMessage } from '../../ports/queue.ts';
import type { ConsumerChildSettings } from './consumer-child.ts';
import { KAFKA_TEST_ENGINE, splitBrokers, temporaryQueues } from './testing.ts';
import { takeoverBoundMs, type GroupTiming } from './topic-consumer.ts';

const CHILD = fileURLToPath(new URL('./consumer-child.ts', import.meta.url));

/** A consumer child process and the lines it printed so far. */
interface Child {
  process: ChildProcess;
  lines: string[];
  exited: Promise<void>;
  /** Resolves with the first line starting with `prefix` (already printed or to come). */
  line(prefix: string, withinMs: number): Promise<string>;
}

function startChild(settings: ConsumerChildSettings): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, TRIGGERS_TEST_KAFKA_CHILD: JSON.stringify(settings) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const listener of [...listeners]) listener();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    process: child,
    lines,
    exited,
    line(prefix, withinMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.findLast((l) => l.startsWith(prefix));
          if (!found) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`the child printed no "${prefix}" line within ${withinMs} ms (it printed: ${lines.slice(-5).join(' | ')})`));
        }, withinMs);
        listeners.add(check);
        check();
      });
    },
  };
}

describe('Kafka queue: consumers that crash', function () {
  this.timeout(120_000);
  const kafka = requireEngine(KAFKA_TEST_ENGINE);
  const queues = temporaryQueues(() => kafka.address, 'crash');
  const children: Child[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) child.process.kill('SIGKILL');
  });
  after(() => queues.cleanup());

  it('a killed member\'s uncommitted messages go to a live member of its group within the session-timeout bound', async function () {
    // The setting's default (TRIGGERS_KAFKA_SESSION_TIMEOUT_MS=10000): heartbeats every second.
    const timing: GroupTiming = { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000, rebalanceTimeoutMs: 30_000, maxWaitTimeMs: 1000 };
    const topicPrefix = queues.newPrefix();
    const live = await queues.open({ topicPrefix, partitions: 2, timing, consume: ['deliveries'] });
    const holder = startChild({ brokers: splitBrokers(kafka.address), topicPrefix, maxReceives: 3, timing, mode: 'hold' });
    children.push(holder);
    await holder.line('ready', 60_000);
    // The live member rejoined with the other partition.
    for (const deadline = Date.now() + 15_000; live.assignedPartitions('deliveries').length !== 1; await sleep(50)) {
      assert.ok(Date.now() < deadline, 'the live member holds one of the two partitions');
    }
    await live.sendBatch('deliveries', Array.from({ length: 40 }, (_, i) => ({ key: `key-${i}`, body: { seq: i } })));
    const mine = new Set<string>();
    let held: string[] = [];
    for (const deadline = Date.now() + 20_000; mine.size + held.length < 40; ) {
      assert.ok(Date.now() < deadline, `all 40 received between the two members (live ${mine.size}, held ${held.length})`);
      for (const m of await live.receive('deliveries', { maxMessages: 50, visibilityTimeoutMs: 600_000, waitTimeMs: 200 })) {
        mine.add(m.id);
        await live.ack('deliveries', m.receipt);
      }
      const line = holder.lines.findLast((l) => l.startsWith('held '));
      if (line) held = JSON.parse(line.slice('held '.length)) as string[];
    }
    assert.ok(held.length > 0 && mine.size > 0, `both members got messages (live ${mine.size}, held ${held.length})`);

    holder.process.kill('SIGKILL');
    const killedAt = Date.now();
    await holder.exited;
    const back = new Map<string, number>();
    const bound = takeoverBoundMs(timing);
    while (back.size < held.length && Date.now() - killedAt < bound * 2) {
      const received: ReceivedMessage[] = await live.receive('deliveries', { maxMessages: 100, visibilityTimeoutMs: 600_000, waitTimeMs: 500 });
      for (const m of received) {
        if (!back.has(m.id)) back.set(m.id, Date.now() - killedAt);
        await live.ack('deliveries', m.receipt);
      }
    }
    assert.deepEqual([...back.keys()].sort(), [...held].sort(), 'exactly the messages the killed member held came back');
    const lastMs = Math.max(...back.values());
    process.stdout.write(
      `      Kafka: ${held.length} messages held by a SIGKILLed member were redelivered to the live member ${Math.min(...back.values())}–${lastMs} ms after the kill ` +
        `(session timeout ${timing.sessionTimeoutMs} ms, bound ${bound} ms)\n`,
    );
    assert.ok(lastMs <= bound, `taken over ${lastMs} ms after the kill, within the bound of ${bound} ms`);
  });

  it('a message that kills its consumer every time is dead-lettered after maxReceives crashes; every other message is handled', async function () {
    const maxReceives = 3;
    const poisonSeq = 12;
    const total = 30;
    // Short sessions: each restarted process waits for the dead member's session to end before it gets the partition.
    const timing: GroupTiming = { sessionTimeoutMs: 3000, heartbeatIntervalMs: 300, rebalanceTimeoutMs: 10_000, maxWaitTimeMs: 250 };
    const topicPrefix = queues.newPrefix();
    const producer = await queues.open({ topicPrefix, partitions: 1, maxReceives, timing });
    const sent = Array.from({ length: total }, (_, seq) => ({ key: `key-${seq % 5}`, body: { seq } }));
    await producer.sendBatch('deliveries', sent);

    const handled = new Set<number>();
    let crashes = 0;
    const restarts: string[] = [];
    let diedAt: number | undefined;
    for (let run = 0; run <= maxReceives + 1; run++) {
      const child = startChild({ brokers: splitBrokers(kafka.address), topicPrefix, maxReceives, timing, mode: 'poison', poisonSeq });
      children.push(child);
      let exited = false;
      void child.exited.then(() => (exited = true));
      const done = async () => {
        for (const line of child.lines) if (line.startsWith('handled ')) handled.add(Number(line.slice('handled '.length)));
        return handled.size === total - 1 && (await producer.deadLetterDepth('deliveries')) === 1;
      };
      let readyAt: number | undefined;
      void child.line('ready', 60_000).then(() => (readyAt = Date.now()), () => undefined);
      for (const deadline = Date.now() + 60_000; !exited && !(await done()); await sleep(50)) {
        assert.ok(Date.now() < deadline, `run ${run + 1} neither crashed nor finished within 60 s (handled ${handled.size})`);
      }
      if (diedAt !== undefined && readyAt !== undefined) restarts.push(`${(readyAt - diedAt) / 1000} s`);
      if (!exited) break;
      crashes++;
      diedAt = Date.now();
      await done();
    }
    process.stdout.write(
      `      Kafka: the poison message was dead-lettered after ${crashes} crashes; from each crash until the restarted process held the partition ` +
        `(a new member waits for the dead one's session of ${timing.sessionTimeoutMs} ms): ${restarts.join(', ')}\n`,
    );
    assert.equal(crashes, maxReceives, 'the consumer died once per receive of the poison message, then it was dead-lettered');
    assert.deepEqual(
      [...handled].sort((a, b) => a - b),
      sent.map((m) => m.body.seq).filter((seq) => seq !== poisonSeq),
      'every other message was handled',
    );
    const dead = await producer.readDeadLetters('deliveries', 10);
    assert.deepEqual(
      dead.map((m) => [m.body, m.receiveCount]),
      [[{ seq: poisonSeq }, maxReceives]],
      'only the poison message is in the dead-letter topic, received maxReceives times',
    );
  });
});
