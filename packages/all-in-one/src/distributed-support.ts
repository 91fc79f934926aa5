import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { probeDynamoDb, probeKafka, probePostgres, probeRedis, probeSqs } from '@triggers/core/testing';
import type { EngineRequirement, HttpClient, ReceivedRequest, EngineAddresses } from '@triggers/testkit';

/**
 * Shared by the multi-process end-to-end tests (distributed*.e2e.test.ts): the engines they need,
 * found through the `TRIGGERS_TEST_*` variables, and small API helpers.
 *
 * The engine probes load their adapter's module only when called, so a suite whose engine is
 * absent never loads that cloud SDK (nor fails on it).
 */

export const POSTGRES: EngineRequirement = {
  name: 'PostgreSQL',
  variable: 'TRIGGERS_TEST_POSTGRES_URL',
  probe: async (url) => probePostgres(url),
  hint: 'start one with scripts/engines/postgres.sh start and set TRIGGERS_TEST_POSTGRES_URL=$(scripts/engines/postgres.sh url)',
};
export const REDIS: EngineRequirement = {
  name: 'Redis',
  variable: 'TRIGGERS_TEST_REDIS_URL',
  probe: async (url) => probeRedis(url),
  hint: 'start one with scripts/engines/redis.sh start and set TRIGGERS_TEST_REDIS_URL=$(scripts/engines/redis.sh url)',
};
export const DYNAMODB: EngineRequirement = {
  name: 'DynamoDB',
  variable: 'TRIGGERS_TEST_DYNAMODB_ENDPOINT',
  probe: async (endpoint) => probeDynamoDb(endpoint),
  hint: 'start one with scripts/engines/dynamodb.sh start and set TRIGGERS_TEST_DYNAMODB_ENDPOINT=$(scripts/engines/dynamodb.sh endpoint)',
};
export const SQS: EngineRequirement = {
  name: 'SQS (ElasticMQ)',
  variable: 'TRIGGERS_TEST_SQS_ENDPOINT',
  probe: async (endpoint) => probeSqs(endpoint),
  hint: 'start one with scripts/engines/elasticmq.sh start and set TRIGGERS_TEST_SQS_ENDPOINT=$(scripts/engines/elasticmq.sh endpoint)',
};
export const KAFKA: EngineRequirement = {
  name: 'Kafka',
  variable: 'TRIGGERS_TEST_KAFKA_BROKERS',
  probe: async (brokers) => probeKafka(brokers),
  hint: 'start one with scripts/engines/kafka.sh start and set TRIGGERS_TEST_KAFKA_BROKERS=$(scripts/engines/kafka.sh brokers)',
  timeoutMs: 10_000,
};

/** The engines' addresses from the environment (call once `requireEngine`'s hooks passed). */
export function engineAddresses(): EngineAddresses {
  const read = (name: string) => process.env[name]?.trim() || undefined;
  return {
    postgresUrl: read('TRIGGERS_TEST_POSTGRES_URL'),
    redisUrl: read('TRIGGERS_TEST_REDIS_URL'),
    dynamodbEndpoint: read('TRIGGERS_TEST_DYNAMODB_ENDPOINT'),
    sqsEndpoint: read('TRIGGERS_TEST_SQS_ENDPOINT'),
    kafkaBrokers: read('TRIGGERS_TEST_KAFKA_BROKERS'),
  };
}

export interface Customer {
  customerId: string;
  apiKey: string;
  /** A fresh event type: no other test's subscription matches it. */
  eventType: string;
}

/** A customer of its own through the inbox's admin API. */
export async function newCustomer(inbox: HttpClient): Promise<Customer> {
  const response = await inbox.request('POST', '/admin/test-customer', { admin: true, json: { name: 'E2E', email: 'e2e@example.test' } });
  assert.equal(response.status, 201, response.text);
  return { customerId: response.body.customer_id, apiKey: response.body.api_key, eventType: `e2e.${randomUUID().slice(0, 8)}` };
}

export interface Subscription {
  workflow_id: string;
  secret: string;
  [field: string]: unknown;
}

/** Subscribes through the inbox's public route to events of `eventType`. */
export async function subscribe(inbox: HttpClient, apiKey: string, eventType: string, webhookUrl: string): Promise<Subscription> {
  const response = await inbox.request('POST', '/api/v1/subscriptions', {
    apiKey,
    json: { event_selector: { type: 'event_type', value: eventType }, webhook_url: webhookUrl },
  });
  assert.equal(response.status, 201, response.text);
  return response.body;
}

/** Posts one event through ingest; asserts the 202. */
export async function postEvent(ingest: HttpClient, apiKey: string, payload: Record<string, unknown>, headers?: Record<string, string>): Promise<string> {
  const response = await ingest.request('POST', '/api/v1/events', { apiKey, json: { payload }, headers });
  assert.equal(response.status, 202, response.text);
  return response.body.event_id;
}

/** Verifies a received webhook with the `standardwebhooks` package, as a customer's receiver would. */
export function verifySignature(request: ReceivedRequest, secret: string): unknown {
  const header = (name: string) => {
    const value = request.headers[name];
    assert.equal(typeof value, 'string', `header ${name}`);
    return value as string;
  };
  return new Webhook(secret).verify(request.body, {
    'webhook-id': header('webhook-id'),
    'webhook-timestamp': header('webhook-timestamp'),
    'webhook-signature': header('webhook-signature'),
  });
}

/** The event ids in a received webhook's body. */
export function eventIdsIn(request: Pick<ReceivedRequest, 'body'>): string[] {
  try {
    return (JSON.parse(request.body) as { event_id: string }[]).map((e) => e.event_id);
  } catch {
    return [];
  }
}

/** Every event of the customer's inbox, following cursors. */
export async function allInboxEvents(inbox: HttpClient, apiKey: string, query = ''): Promise<{ event_id: string; status: string }[]> {
  const events: { event_id: string; status: string }[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const params = new URLSearchParams(query);
    params.set('limit', '100');
    if (cursor) params.set('cursor', cursor);
    const response = await inbox.request('GET', `/api/v1/inbox?${params}`, { apiKey });
    assert.equal(response.status, 200, response.text);
    events.push(...response.body.events);
    if (!response.body.has_more) return events;
    cursor = response.body.cursor;
  }
  throw new Error('inbox paging did not end');
}

/** Polls `check` until it returns a value other than undefined; fails with `describe()` after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs: number, describe: () => string, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`Timed out after ${timeoutMs} ms: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
