/**
 * Tests against real engines (PostgreSQL, Redis, DynamoDB Local, ElasticMQ, Kafka) find them
 * through environment variables that `.ci/run` sets after starting them. Without an engine its
 * tests are skipped with a line naming what is missing; with `TRIGGERS_REQUIRE_BACKENDS=1` (CI)
 * a missing engine fails the run instead.
 */

import { probeDynamoDb, probeKafka, probePostgres, probeRedis, probeSqs } from '@triggers/core/testing';
import type { EngineAddresses } from './service-processes.ts';

export interface EngineRequirement {
  /** What the engine is, for the skip line: "PostgreSQL". */
  name: string;
  /** The environment variable holding its address, e.g. `TRIGGERS_TEST_POSTGRES_URL`. */
  variable: string;
  /** Resolves when the engine answers at that address; rejects (or takes too long) otherwise. */
  probe(address: string): Promise<void>;
  /** How to get the engine, shown with the skip line. */
  hint?: string;
  /** How long the probe may take. Default 5 s. */
  timeoutMs?: number;
}

export interface Engine {
  /** The engine's address (the variable's value); readable once the `before` hook has passed. */
  readonly address: string;
}

/** Whether a missing engine fails the run (`TRIGGERS_REQUIRE_BACKENDS=1`) instead of skipping its tests. */
export function backendsRequired(): boolean {
  return process.env.TRIGGERS_REQUIRE_BACKENDS === '1';
}

// One probe per engine (by name) and address per test process: many test files share the answer
// (and a dead address costs its timeout once). The name is part of the key, so a requirement
// with a probe of its own on the same address (e.g. "the programs to start a throwaway server")
// never borrows another's answer.
const probes = new Map<string, Promise<string | null>>();

/** Null when the engine answers, else why it cannot be used. */
export function checkEngine(requirement: EngineRequirement): Promise<string | null> {
  const address = process.env[requirement.variable]?.trim();
  if (!address) return Promise.resolve(`${requirement.variable} is not set`);
  const key = `${requirement.name}|${requirement.variable}=${address}`;
  let probe = probes.get(key);
  if (!probe) {
    probe = probeWithin(requirement, address);
    probes.set(key, probe);
  }
  return probe;
}

async function probeWithin(requirement: EngineRequirement, address: string): Promise<string | null> {
  const timeoutMs = requirement.timeoutMs ?? 5000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      requirement.probe(address),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return null;
  } catch (error) {
    return `${requirement.name} does not answer at ${redact(address)} (${error instanceof Error ? error.message : String(error)})`;
  } finally {
    clearTimeout(timer);
  }
}

/** Hides a password in a URL before it is printed. */
function redact(address: string): string {
  return address.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}

/**
 * Call first inside a `describe`: registers a `before` hook (running before the suite's own hooks)
 * that checks the engine. When it is missing, the whole `describe` is skipped with a console line
 * saying what is missing — or fails, under `TRIGGERS_REQUIRE_BACKENDS=1`.
 *
 *     const postgres = requireEngine({ name: 'PostgreSQL', variable: 'TRIGGERS_TEST_POSTGRES_URL', probe: probePostgres });
 *     ...makeStore: () => openOn(postgres.address)
 */
export function requireEngine(requirement: EngineRequirement): Engine {
  let address: string | undefined;
  before(async function () {
    this.timeout((requirement.timeoutMs ?? 5000) + 5000);
    const missing = await checkEngine(requirement);
    if (missing === null) {
      address = process.env[requirement.variable]!.trim();
      return;
    }
    const hint = requirement.hint ? ` — ${requirement.hint}` : '';
    if (backendsRequired()) {
      throw new Error(`${requirement.name} is required (TRIGGERS_REQUIRE_BACKENDS=1) but ${missing}${hint}`);
    }
    const suite = this.test?.parent?.fullTitle() ?? requirement.name;
    console.log(`  skipped "${suite}": ${requirement.name} is not available: ${missing}${hint}`);
    this.skip();
  });
  return {
    get address(): string {
      if (address === undefined) throw new Error(`${requirement.name} was not checked yet: read the address inside hooks or tests`);
      return address;
    },
  };
}

/** An engine of scripts/engines/: its variable, and how to start one and set it. */
function engine(name: string, script: string, variable: string, addressCommand: string, probe: (address: string) => Promise<void>, timeoutMs?: number): EngineRequirement {
  const hint = `start one with scripts/engines/${script}.sh start and set ${variable}=$(scripts/engines/${script}.sh ${addressCommand})`;
  return { name, variable, probe, hint, ...(timeoutMs === undefined ? {} : { timeoutMs }) };
}

/** The engines the backend and end-to-end tests use; each probe loads its SDK only when called. */
export const POSTGRES = engine('PostgreSQL', 'postgres', 'TRIGGERS_TEST_POSTGRES_URL', 'url', probePostgres);
export const REDIS = engine('Redis', 'redis', 'TRIGGERS_TEST_REDIS_URL', 'url', probeRedis);
export const DYNAMODB = engine('DynamoDB', 'dynamodb', 'TRIGGERS_TEST_DYNAMODB_ENDPOINT', 'endpoint', probeDynamoDb);
export const SQS = engine('SQS (ElasticMQ)', 'elasticmq', 'TRIGGERS_TEST_SQS_ENDPOINT', 'endpoint', probeSqs);
export const KAFKA = engine('Kafka', 'kafka', 'TRIGGERS_TEST_KAFKA_BROKERS', 'brokers', probeKafka, 10_000);

/** The engines' addresses from the environment (call once `requireEngine`'s hooks passed). */
export function engineAddresses(): EngineAddresses {
  const read = (name: string) => process.env[name]?.trim() || undefined;
  return {
    postgresUrl: read(POSTGRES.variable),
    redisUrl: read(REDIS.variable),
    dynamodbEndpoint: read(DYNAMODB.variable),
    sqsEndpoint: read(SQS.variable),
    kafkaBrokers: read(KAFKA.variable),
  };
}
