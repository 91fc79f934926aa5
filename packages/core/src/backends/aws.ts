import { coerceError, DependencyError, TriggersError } from '../errors.ts';

/** What the DynamoDB and SQS adapters share to build an AWS SDK v3 client. */
export interface AwsClientSettings {
  /** Unset: the AWS default endpoint for the region, and the SDK's default credential chain. */
  endpoint?: string;
  region: string;
  /** Longest a request may take (SQS long polls need more than their wait time). */
  requestTimeoutMs: number;
}

/**
 * Client configuration for `new DynamoDBClient(...)` / `new SQSClient(...)`. With an endpoint (a
 * local engine: moto, ElasticMQ) the credentials are fixed dummies, since such engines accept any
 * signature and a developer machine may have none; without one the SDK's default chain (env, web
 * identity in EKS, instance profile, ...) applies.
 */
export function awsClientConfig(settings: AwsClientSettings) {
  return {
    region: settings.region,
    maxAttempts: 3,
    // Without throwOnRequestTimeout the SDK only logs a warning at requestTimeout and keeps waiting:
    // a connection that never answers would hang its caller (and keep its queue message hidden) forever.
    requestHandler: { connectionTimeout: 3000, requestTimeout: settings.requestTimeoutMs, throwOnRequestTimeout: true },
    ...(settings.endpoint
      ? { endpoint: settings.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  };
}

/** The error's AWS error code (`ConditionalCheckFailedException`, `ThrottlingException`, ...), if any. */
export function awsErrorName(thrown: unknown): string {
  if (typeof thrown !== 'object' || thrown === null) return '';
  const { name, Code, code } = thrown as { name?: unknown; Code?: unknown; code?: unknown };
  for (const candidate of [Code, name, code]) {
    // Some engines send a qualified code: `com.amazonaws.sqs#ReceiptHandleIsInvalid`.
    if (typeof candidate === 'string' && candidate !== 'Error') return candidate.slice(candidate.lastIndexOf('#') + 1);
  }
  return '';
}

const RETRYABLE_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'TransactionConflictException',
  'TransactionInProgressException',
  'InternalServerError',
  'InternalFailure',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'LimitExceededException',
  'OverLimit',
  'KMSThrottlingException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'AbortError',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
]);

/** Whether the same request can succeed later: throttling, server faults, network trouble. */
export function isRetryableAwsError(thrown: unknown): boolean {
  if (RETRYABLE_NAMES.has(awsErrorName(thrown))) return true;
  const meta = (thrown as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata;
  if (meta?.httpStatusCode !== undefined) return meta.httpStatusCode >= 500 || meta.httpStatusCode === 429;
  // No HTTP answer at all (connection refused, socket closed): the engine is down or unreachable.
  const fault = (thrown as { $fault?: string } | null)?.$fault;
  return fault !== 'client';
}

/** Wraps what the SDK threw in a `DependencyError`; our own errors pass through. */
export function toAwsDependencyError(backend: string, action: string, thrown: unknown): Error {
  if (thrown instanceof TriggersError || thrown instanceof DependencyError) return thrown;
  const error = coerceError(thrown);
  const name = awsErrorName(thrown);
  return new DependencyError(backend, `${action} failed${name ? ` (${name})` : ''}: ${error.message}`, {
    cause: error,
    retryable: isRetryableAwsError(thrown),
  });
}
