import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../../log.ts';
import { toRedisDependencyError } from './errors.ts';

export type RedisClient = Redis;

export interface RedisClientOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. */
  url: string;
  log?: Logger;
  /** A command without a reply after this long fails (retryable). Default 5 s. */
  commandTimeoutMs?: number;
}

/**
 * Connects and waits until the server is ready. While the connection is down later, commands fail
 * at once (no offline queue: ingest answers 503 instead of hanging) and the client reconnects by
 * itself with a capped backoff, so callers resume when Redis returns.
 */
export async function connectRedis(options: RedisClientOptions): Promise<RedisClient> {
  const log = options.log;
  const client = new Redis(options.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    commandTimeout: options.commandTimeoutMs ?? 5000,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 7), 5000),
    connectionName: 'triggers',
  });
  let reported = false;
  let lastError: Error | undefined;
  client.on('error', (error: Error) => {
    lastError = error;
    // Reconnection keeps failing while the server is down: say so once per outage, not per attempt.
    if (!reported) log?.warn({ err: error }, 'Lost the Redis connection; reconnecting');
    reported = true;
  });
  client.on('ready', () => {
    if (reported) log?.info('Reconnected to Redis');
    reported = false;
  });
  try {
    await client.connect();
  } catch (thrown) {
    client.disconnect();
    // connect() rejects with "Connection is closed."; the socket's own error says why.
    throw toRedisDependencyError(lastError ?? thrown, 'connecting');
  }
  return client;
}

/**
 * A Lua script run by EVALSHA, loaded with EVAL the first time a server lacks it (a new or
 * restarted server). The script runs atomically: no other command interleaves with it.
 */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: RedisClient, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (thrown) {
      if (!(thrown instanceof Error) || !thrown.message.startsWith('NOSCRIPT')) throw thrown;
      return await client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/** `{customerId}` is a hash tag: every key of one customer maps to one Redis Cluster slot. */
export function customerKey(prefix: string, kind: string, customerId: string, rest?: string): string {
  return `${prefix}${kind}:{${customerId}}${rest === undefined ? '' : `:${rest}`}`;
}
