import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBackends, type Backends } from './backends.ts';
import { loadConfig } from './config.ts';
import { createLogger } from './log.ts';
import { systemClock } from './clock.ts';
import { DependencyError } from './errors.ts';
import pg from 'pg';
import { postgresUrlWithSchema, requireEngine } from '@triggers/testkit';
import { generateSecretKeyText } from './secret-cipher.ts';
import { POSTGRES_TEST_ENGINE, uniqueSchemaName } from './backends/postgres/testing.ts';

/**
 * `needs.pipeline: false` (the Subscription controller): only the metadata store is opened. The
 * event store and queue configured here point at closed loopback ports, so opening either would
 * fail or hang, and any of them on `/ready` would make the controller unready.
 */
describe('createBackends with needs.pipeline false: the metadata store only', function () {
  this.timeout(15_000);
  let dataDir: string;
  let backends: Backends | undefined;
  before(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'triggers-backends-'));
  });
  after(async () => {
    await backends?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  // The controller's metadata store: PostgreSQL (a shared queue needs it), in a schema of its own.
  const postgres = requireEngine(POSTGRES_TEST_ENGINE);
  const schema = uniqueSchemaName('backends');
  const withClient = async (work: (client: pg.Client) => Promise<unknown>) => {
    const client = new pg.Client({ connectionString: postgres.address });
    await client.connect();
    try {
      await work(client);
    } finally {
      await client.end();
    }
  };
  // Without PostgreSQL the suite is skipped and nothing was created: nothing to drop.
  let created = false;
  before(async () => {
    await withClient((client) => client.query(`CREATE SCHEMA "${schema}"`));
    created = true;
  });
  after(async () => {
    if (created) await withClient((client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
  });

  const config = () =>
    loadConfig({
      TRIGGERS_DATA_DIR: dataDir,
      TRIGGERS_METADATA_STORE: 'postgres',
      TRIGGERS_POSTGRES_URL: postgresUrlWithSchema(postgres.address, schema),
      TRIGGERS_SECRET_KEY: generateSecretKeyText(),
      TRIGGERS_EVENT_STORE: 'dynamodb',
      TRIGGERS_DYNAMODB_ENDPOINT: 'http://127.0.0.1:9',
      TRIGGERS_QUEUE: 'kafka',
      TRIGGERS_KAFKA_BROKERS: '127.0.0.1:9',
      TRIGGERS_CACHE: 'redis',
      TRIGGERS_REDIS_URL: 'redis://127.0.0.1:9',
    });

  it('opens no event store, queue or cache: /ready checks only the metadata store, and it answers', async () => {
    const log = createLogger({ level: 'silent', service: 'test' });
    backends = await createBackends(config(), { clock: systemClock, log, needs: { cache: false, pipeline: false } });
    assert.deepEqual(
      backends.readiness.map((r) => r.name),
      ['postgres'],
    );
    for (const check of backends.readiness) await check.check();
    await backends.metadataStore.createCustomer({
      customerId: 'cus_pipeline_off',
      name: 'Controller only',
      email: 'ops@example.test',
      status: 'active',
      rateLimitPerSecond: null,
      isTest: true,
      createdAt: 1,
    });
    assert.equal((await backends.metadataStore.getCustomer('cus_pipeline_off'))?.name, 'Controller only');
  });

  it('the ports it did not open refuse every call with a non-retryable DependencyError naming them', async () => {
    assert.ok(backends, 'opened by the test above');
    const refusals = [
      backends.queue.send('events', {} as never),
      backends.eventStore.getEvent('cus_pipeline_off', 'evt_none'),
      backends.eventAcceptor.accept({} as never),
      backends.rateLimiter.consume('cus_pipeline_off', 1, 1),
    ];
    for (const refusal of refusals) {
      await assert.rejects(refusal, (error: unknown) => {
        assert.ok(error instanceof DependencyError, String(error));
        assert.equal(error.retryable, false);
        assert.match(error.message, /is not opened in this service/);
        return true;
      });
    }
    assert.equal(backends.queue.kind, 'kafka');
    assert.equal(backends.eventStore.kind, 'dynamodb');
  });
});
