/**
 * `--backends <preset>`: run the benchmark's servers on real engines instead of the embedded
 * SQLite default. The engines are the ones started with scripts/engines/*.sh (the bench never
 * starts or stops an engine); their addresses come from the `TRIGGERS_TEST_*` variables the tests
 * use or, when unset, from the scripts' own `url` / `brokers` / `endpoint` subcommands (which
 * honour `TRIGGERS_PG_PORT`, `TRIGGERS_KAFKA_PORT`, ...).
 *
 * Every started server gets a space of its own, as the multi-process end-to-end tests do
 * (testkit's `prepareBackends`): a fresh PostgreSQL schema through the URL's
 * `options=-c search_path=<schema>`, unique SQS queue and Kafka topic prefixes, a unique DynamoDB
 * table — all removed again when the server has stopped (unless --keep-data).
 */
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import type { BackendChoice, EngineAddresses } from '@triggers/testkit';

export type EngineName = 'postgres' | 'redis' | 'kafka' | 'dynamodb' | 'sqs';

export interface BackendPreset {
  name: string;
  choice: BackendChoice;
  engines: EngineName[];
  /** One line for the report. */
  describe: string;
}

const PRESET_LIST: BackendPreset[] = [
  {
    name: 'sqlite',
    choice: { eventStore: 'sqlite', metadataStore: 'sqlite', queue: 'sqlite', cache: 'memory' },
    engines: [],
    describe: 'embedded: events, queue, idempotency and metadata in one SQLite file (transactional outbox); in-process rate limiter',
  },
  {
    name: 'postgres-redis',
    choice: { eventStore: 'postgres', metadataStore: 'postgres', queue: 'sqlite', cache: 'redis' },
    engines: ['postgres', 'redis'],
    describe: 'events + metadata on PostgreSQL, queue on local SQLite, rate limits + idempotency on Redis (dual write + sweeper)',
  },
  {
    name: 'postgres-redis-kafka',
    choice: { eventStore: 'postgres', metadataStore: 'postgres', queue: 'kafka', cache: 'redis' },
    engines: ['postgres', 'redis', 'kafka'],
    describe: 'events + metadata on PostgreSQL, queue on Kafka, rate limits + idempotency on Redis (dual write + sweeper)',
  },
  {
    name: 'postgres-redis-sqs',
    choice: { eventStore: 'postgres', metadataStore: 'postgres', queue: 'sqs', cache: 'redis' },
    engines: ['postgres', 'redis', 'sqs'],
    describe: 'events + metadata on PostgreSQL, queue on SQS (ElasticMQ), rate limits + idempotency on Redis (dual write + sweeper)',
  },
  {
    name: 'dynamodb-sqs',
    choice: { eventStore: 'dynamodb', metadataStore: 'postgres', queue: 'sqs', cache: 'redis' },
    engines: ['dynamodb', 'sqs', 'postgres', 'redis'],
    describe:
      'events + attempts on DynamoDB (moto), queue on SQS (ElasticMQ); customers/keys/subscriptions on PostgreSQL and rate limits + idempotency on Redis (DynamoDB has no metadata store) — dual write + sweeper',
  },
];

export const BACKEND_PRESETS: Record<string, BackendPreset> = Object.fromEntries(PRESET_LIST.map((p) => [p.name, p]));
// `postgres-redis-dynamodb-sqs` names everything dynamodb-sqs uses.
BACKEND_PRESETS['postgres-redis-dynamodb-sqs'] = BACKEND_PRESETS['dynamodb-sqs'];

const ENGINE_INFO: Record<EngineName, { variable: string; script: string; subcommand: string; key: keyof EngineAddresses; label: string }> = {
  postgres: { variable: 'TRIGGERS_TEST_POSTGRES_URL', script: 'postgres.sh', subcommand: 'url', key: 'postgresUrl', label: 'PostgreSQL' },
  redis: { variable: 'TRIGGERS_TEST_REDIS_URL', script: 'redis.sh', subcommand: 'url', key: 'redisUrl', label: 'Redis' },
  kafka: { variable: 'TRIGGERS_TEST_KAFKA_BROKERS', script: 'kafka.sh', subcommand: 'brokers', key: 'kafkaBrokers', label: 'Kafka' },
  dynamodb: { variable: 'TRIGGERS_TEST_DYNAMODB_ENDPOINT', script: 'dynamodb.sh', subcommand: 'endpoint', key: 'dynamodbEndpoint', label: 'DynamoDB (moto)' },
  sqs: { variable: 'TRIGGERS_TEST_SQS_ENDPOINT', script: 'elasticmq.sh', subcommand: 'endpoint', key: 'sqsEndpoint', label: 'SQS (ElasticMQ)' },
};

/** host:port pairs of an engine address (a URL, or Kafka's comma-separated brokers). */
function hostPorts(engine: EngineName, address: string): { host: string; port: number }[] {
  if (engine === 'kafka') {
    return address.split(',').map((b) => {
      const [host, port] = b.trim().split(':');
      return { host, port: Number(port) };
    });
  }
  const url = new URL(address);
  const defaults: Record<string, number> = { 'postgres:': 5432, 'postgresql:': 5432, 'redis:': 6379, 'http:': 80, 'https:': 443 };
  return [{ host: url.hostname, port: Number(url.port) || defaults[url.protocol] || 0 }];
}

function canConnect(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The TCP ports each engine of `addresses` listens on (to find its processes for CPU accounting). */
export function enginePorts(addresses: EngineAddresses): Partial<Record<EngineName, number[]>> {
  const ports: Partial<Record<EngineName, number[]>> = {};
  for (const [engine, info] of Object.entries(ENGINE_INFO) as [EngineName, (typeof ENGINE_INFO)[EngineName]][]) {
    const address = addresses[info.key];
    if (address) ports[engine] = hostPorts(engine, address).map((t) => t.port);
  }
  return ports;
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * The addresses of the preset's engines; throws with the commands to run when one is missing,
 * does not answer on its port, or is not on this machine.
 */
export async function resolveEngines(preset: BackendPreset, root: string): Promise<{ addresses: EngineAddresses; lines: string[] }> {
  const addresses: EngineAddresses = {};
  const lines: string[] = [];
  const problems: string[] = [];
  for (const engine of preset.engines) {
    const info = ENGINE_INFO[engine];
    const script = path.join('scripts', 'engines', info.script);
    let address = process.env[info.variable]?.trim();
    let source = info.variable;
    if (!address) {
      address = execFileSync('bash', [path.join(root, script), info.subcommand], { cwd: root, encoding: 'utf8', env: process.env }).trim();
      source = `${script} ${info.subcommand}`;
    }
    const targets = hostPorts(engine, address);
    if (targets.some((t) => !LOCAL_HOSTS.has(t.host))) {
      problems.push(`${info.label} at ${address} (from ${source}) is not on 127.0.0.1: this benchmark only targets the local machine`);
      continue;
    }
    const reachable = (await Promise.all(targets.map((t) => canConnect(t.host, t.port)))).every(Boolean);
    if (!reachable) {
      problems.push(`${info.label} does not answer at ${address} (from ${source}): start it with \`${script} start\``);
      continue;
    }
    addresses[info.key] = address;
    lines.push(`${info.label} ${address} (${source})`);
  }
  if (problems.length > 0) throw new Error(`--backends ${preset.name}: ${problems.join('; ')}`);
  return { addresses, lines };
}
