import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from './config.ts';
import { generateSecretKeyText } from './secret-cipher.ts';

/**
 * Issue 10 item 3: every combination of TRIGGERS_EVENT_STORE, TRIGGERS_METADATA_STORE,
 * TRIGGERS_QUEUE and TRIGGERS_CACHE is either coherent or refused at start-up, by a message that
 * names the variables. The accepted ones, written out (not derived from the rules under test):
 */
const ACCEPTED = new Set([
  // Embedded: everything in the data folder.
  'sqlite/sqlite/sqlite/memory',
  'sqlite/sqlite/sqlite/redis',
  // A SQLite queue keeps the pipeline on one host; any shared store then needs the shared cache.
  'sqlite/postgres/sqlite/redis',
  'postgres/sqlite/sqlite/redis',
  'postgres/postgres/sqlite/redis',
  'dynamodb/sqlite/sqlite/redis',
  'dynamodb/postgres/sqlite/redis',
  // Distributed: a shared queue, so shared events, metadata and cache.
  'postgres/postgres/sqs/redis',
  'postgres/postgres/kafka/redis',
  'dynamodb/postgres/sqs/redis',
  'dynamodb/postgres/kafka/redis',
]);

const EVENT_STORES = ['sqlite', 'postgres', 'dynamodb'];
const METADATA_STORES = ['sqlite', 'postgres'];
const QUEUES = ['sqlite', 'sqs', 'kafka'];
const CACHES = ['memory', 'redis'];
const BACKEND_VARIABLES = ['TRIGGERS_EVENT_STORE', 'TRIGGERS_METADATA_STORE', 'TRIGGERS_QUEUE', 'TRIGGERS_CACHE'];

/** Every connection setting present, so only the combination itself can be refused. */
const CONNECTIONS = {
  TRIGGERS_POSTGRES_URL: 'postgres://triggers@127.0.0.1:5432/triggers',
  TRIGGERS_REDIS_URL: 'redis://127.0.0.1:6379',
  TRIGGERS_KAFKA_BROKERS: '127.0.0.1:9092',
  TRIGGERS_SECRET_KEY: generateSecretKeyText(),
};

describe('backend settings: every combination coherent or refused at start-up', function () {
  const combinations = EVENT_STORES.flatMap((e) => METADATA_STORES.flatMap((m) => QUEUES.flatMap((q) => CACHES.map((c) => [e, m, q, c]))));

  it(`covers all ${EVENT_STORES.length * METADATA_STORES.length * QUEUES.length * CACHES.length} combinations: ${ACCEPTED.size} accepted, the rest refused naming the variables`, function () {
    let refused = 0;
    for (const [events, metadata, queue, cache] of combinations) {
      const name = `${events}/${metadata}/${queue}/${cache}`;
      const load = () =>
        loadConfig({ ...CONNECTIONS, TRIGGERS_EVENT_STORE: events, TRIGGERS_METADATA_STORE: metadata, TRIGGERS_QUEUE: queue, TRIGGERS_CACHE: cache });
      if (ACCEPTED.has(name)) {
        const config = load();
        assert.deepEqual([config.backends.eventStore, config.backends.metadataStore, config.backends.queue, config.backends.cache], [events, metadata, queue, cache], name);
        continue;
      }
      refused++;
      assert.throws(load, (error: unknown) => {
        assert.ok(error instanceof ConfigError, `${name}: ${String(error)}`);
        assert.ok(BACKEND_VARIABLES.includes(error.variable), `${name}: refused for ${error.variable}`);
        // The refused setting and at least one setting it conflicts with.
        const named = BACKEND_VARIABLES.filter((v) => error.message.includes(v));
        assert.ok(named.length >= 2, `${name}: "${error.message}" names ${named.join(', ') || 'no variable'}`);
        assert.match(error.message, /Set TRIGGERS_/, `${name}: says what to set`);
        return true;
      }, name);
    }
    assert.equal(refused, combinations.length - ACCEPTED.size);
  });

  it('the trap of issue 10: the memory cache with distributed stores is refused, saying idempotency would not be shared', function () {
    assert.throws(
      () => loadConfig({ ...CONNECTIONS, TRIGGERS_EVENT_STORE: 'dynamodb', TRIGGERS_METADATA_STORE: 'postgres', TRIGGERS_QUEUE: 'sqs', TRIGGERS_CACHE: 'memory' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.variable, 'TRIGGERS_CACHE');
        assert.match(error.message, /TRIGGERS_EVENT_STORE=dynamodb, TRIGGERS_METADATA_STORE=postgres, TRIGGERS_QUEUE=sqs/);
        assert.match(error.message, /second event/);
        assert.match(error.message, /TRIGGERS_CACHE=redis and TRIGGERS_REDIS_URL/);
        return true;
      },
    );
  });

  it('an accepted combination still needs each chosen engine\'s connection setting', function () {
    const distributed = { TRIGGERS_EVENT_STORE: 'postgres', TRIGGERS_METADATA_STORE: 'postgres', TRIGGERS_QUEUE: 'kafka', TRIGGERS_CACHE: 'redis' };
    for (const missing of ['TRIGGERS_POSTGRES_URL', 'TRIGGERS_REDIS_URL', 'TRIGGERS_KAFKA_BROKERS', 'TRIGGERS_SECRET_KEY'] as const) {
      const env: Record<string, string | undefined> = { ...CONNECTIONS, ...distributed, [missing]: undefined };
      assert.throws(() => loadConfig(env), (error: unknown) => error instanceof ConfigError && error.variable === missing, missing);
    }
  });
});

describe('queue visibility timeout default (issue 10 item 2)', function () {
  const aws = { TRIGGERS_EVENT_STORE: 'dynamodb', TRIGGERS_METADATA_STORE: 'postgres', TRIGGERS_CACHE: 'redis', TRIGGERS_SQS_ENDPOINT: 'http://127.0.0.1:9324' };

  it('is 30 s on SQS, where a crashed consumer\'s messages come back only when it runs out, and 60 s elsewhere; a setting wins', function () {
    assert.equal(loadConfig({ ...CONNECTIONS, ...aws, TRIGGERS_QUEUE: 'sqs' }).queue.visibilityTimeoutMs, 30_000);
    assert.equal(loadConfig({ ...CONNECTIONS, ...aws, TRIGGERS_QUEUE: 'sqs', TRIGGERS_QUEUE_VISIBILITY_TIMEOUT_MS: '45000' }).queue.visibilityTimeoutMs, 45_000);
    assert.equal(loadConfig({ ...CONNECTIONS, ...aws, TRIGGERS_EVENT_STORE: 'postgres', TRIGGERS_QUEUE: 'kafka' }).queue.visibilityTimeoutMs, 60_000);
    assert.equal(loadConfig({}).queue.visibilityTimeoutMs, 60_000);
  });
});
