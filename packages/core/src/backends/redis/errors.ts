import { coerceError, DependencyError, TriggersError } from '../../errors.ts';

const RETRYABLE_NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);

/** Server replies that mean "not now": loading, busy script, failover, cluster resharding, memory full. */
const RETRYABLE_REPLY = /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY|OOM|NOREPLICAS|MOVED|ASK)\b/;

/** ioredis's own messages for a connection that is down, closing or silent. */
const RETRYABLE_CLIENT = /Connection is closed|Stream isn't writeable|Command timed out|connect ETIMEDOUT|Reached the max retries per request limit|Socket closed unexpectedly/i;

function errorCode(error: Error): string | undefined {
  const code = (error as { code?: unknown }).code ?? (error instanceof AggregateError ? (error.errors[0] as { code?: unknown } | undefined)?.code : undefined);
  return typeof code === 'string' ? code : undefined;
}

/** Wraps whatever ioredis threw in a `DependencyError('redis')`; our own errors pass through. */
export function toRedisDependencyError(thrown: unknown, action: string): Error {
  if (thrown instanceof TriggersError || thrown instanceof DependencyError) return thrown;
  const error = coerceError(thrown);
  const code = errorCode(error);
  const retryable =
    (code !== undefined && RETRYABLE_NETWORK_CODES.has(code)) ||
    error.name === 'MaxRetriesPerRequestError' ||
    RETRYABLE_REPLY.test(error.message) ||
    RETRYABLE_CLIENT.test(error.message);
  return new DependencyError('redis', `${action} failed${code ? ` (${code})` : ''}: ${error.message}`, { cause: error, retryable });
}

/** Runs Redis work, translating failures into `DependencyError`. */
export async function withRedis<T>(action: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (thrown) {
    throw toRedisDependencyError(thrown, action);
  }
}
