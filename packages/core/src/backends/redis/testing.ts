import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { connectRedis, type RedisClient } from './client.ts';

/** Whether a Redis server answers PING at `url` (for the tests' engine check). */
export async function probeRedis(url: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 3000, retryStrategy: () => null });
  let lastError: Error | undefined;
  client.on('error', (error: Error) => (lastError = error));
  try {
    await client.connect().catch((thrown) => {
      throw lastError ?? thrown;
    });
    await client.ping();
  } finally {
    client.disconnect();
  }
}

/** The tests' Redis: `TRIGGERS_TEST_REDIS_URL`, for testkit's `requireEngine`. */
export const REDIS_TEST_ENGINE = {
  name: 'Redis',
  variable: 'TRIGGERS_TEST_REDIS_URL',
  probe: probeRedis,
  hint: 'start one with scripts/engines/redis.sh start and set TRIGGERS_TEST_REDIS_URL=$(scripts/engines/redis.sh url)',
} as const;

/**
 * Connections for one test file under a key prefix of its own, so suites running at once never
 * share a key; `closeAll()` deletes the prefix's keys and closes every connection.
 */
export function temporaryKeyspace(url: () => string, label = 'test'): {
  readonly keyPrefix: string;
  connect(): Promise<RedisClient>;
  closeAll(): Promise<void>;
} {
  const keyPrefix = `triggers-${label}-${randomBytes(4).toString('hex')}:`;
  const clients: RedisClient[] = [];
  return {
    keyPrefix,
    async connect() {
      const client = await connectRedis({ url: url() });
      clients.push(client);
      return client;
    },
    async closeAll() {
      const [first] = clients;
      if (first) {
        let cursor = '0';
        do {
          const [next, keys] = await first.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
          if (keys.length > 0) await first.del(...keys);
          cursor = next;
        } while (cursor !== '0');
      }
      for (const client of clients.splice(0)) await client.quit().catch(() => client.disconnect());
    },
  };
}
