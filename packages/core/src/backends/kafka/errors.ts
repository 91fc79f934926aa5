import { coerceError, DependencyError, TriggersError } from '../../errors.ts';

/**
 * Wraps whatever kafkajs threw in a `DependencyError`. kafkajs marks its errors `retriable`;
 * errors it gave up on after its own retries (a broker down) are worth retrying later too.
 */
export function toKafkaDependencyError(thrown: unknown, action: string): Error {
  if (thrown instanceof TriggersError || thrown instanceof DependencyError) return thrown;
  const error = coerceError(thrown);
  const { retriable, type } = error as { retriable?: unknown; type?: unknown };
  const retryable = retriable !== false || error.name === 'KafkaJSNumberOfRetriesExceeded' || error.name === 'KafkaJSConnectionError';
  return new DependencyError('kafka', `${action} failed${typeof type === 'string' ? ` (${type})` : ''}: ${error.message}`, { cause: error, retryable });
}

/** Runs Kafka work, translating failures into `DependencyError`. */
export async function withKafka<T>(action: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (thrown) {
    throw toKafkaDependencyError(thrown, action);
  }
}
