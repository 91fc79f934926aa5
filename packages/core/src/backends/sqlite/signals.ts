import type { Topic } from '../../ports/queue.ts';
import type { SqliteDatabase } from './database.ts';

/**
 * In-process wake-ups for long-polling receivers of one connection: a send (queue or outbox)
 * wakes them at once, and a delayed message wakes them when it becomes due. Messages written by
 * other processes are found by polling instead.
 */
export class TopicSignals {
  private readonly waiters = new Map<Topic, Set<() => void>>();
  private readonly dueTimers = new Map<Topic, { at: number; timer: NodeJS.Timeout }>();

  /** Wakes every receiver waiting on `topic`. */
  notify(topic: Topic): void {
    const set = this.waiters.get(topic);
    if (!set) return;
    for (const wake of [...set]) wake();
  }

  /** Wakes the receivers of `topic` when a message becomes visible `inMs` from now. */
  notifyIn(topic: Topic, inMs: number): void {
    if (inMs <= 0) {
      this.notify(topic);
      return;
    }
    const at = Date.now() + inMs;
    const current = this.dueTimers.get(topic);
    if (current && current.at <= at) return;
    if (current) clearTimeout(current.timer);
    const timer = setTimeout(() => {
      this.dueTimers.delete(topic);
      this.notify(topic);
    }, inMs);
    timer.unref();
    this.dueTimers.set(topic, { at, timer });
  }

  /** Resolves after `ms`, or earlier when the topic is notified. */
  wait(topic: Topic, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(topic);
      if (!set) {
        set = new Set();
        this.waiters.set(topic, set);
      }
      const waiters = set;
      const wake = () => {
        clearTimeout(timer);
        waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, Math.max(1, ms));
      waiters.add(wake);
    });
  }

  /** Wakes every waiter of every topic (used on close). */
  notifyAll(): void {
    for (const topic of this.waiters.keys()) this.notify(topic);
  }
}

const signalsByDatabase = new WeakMap<SqliteDatabase, TopicSignals>();

/**
 * The signals shared by every queue and acceptor on one connection. Sends are also relayed to the
 * other threads of this process that opened the same file (the all-in-one runs the matcher and
 * deliverer in a worker thread), through a BroadcastChannel named after the file, so a receiver
 * there wakes at once instead of at its next poll.
 */
export function topicSignalsFor(db: SqliteDatabase): TopicSignals {
  let signals = signalsByDatabase.get(db);
  if (!signals) {
    signals = new TopicSignals();
    relayAcrossThreads(signals, db.name);
    signalsByDatabase.set(db, signals);
  }
  return signals;
}

function relayAcrossThreads(signals: TopicSignals, file: string): void {
  if (!file || file === ':memory:') return;
  const channel = new BroadcastChannel(`triggers-sqlite-signals:${file}`);
  (channel as unknown as { unref(): void }).unref();
  const notifyHere = signals.notify.bind(signals);
  channel.onmessage = (message) => notifyHere((message as MessageEvent<Topic>).data);
  signals.notify = (topic: Topic) => {
    notifyHere(topic);
    channel.postMessage(topic);
  };
}
