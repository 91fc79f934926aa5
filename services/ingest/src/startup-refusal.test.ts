import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.ts');

/**
 * Issue 10 item 3, at the process: ingest with the memory cache and distributed stores does not
 * start (it used to open a local SQLite file for idempotency keys, one per pod). It exits 1 before
 * opening anything, naming the variables.
 */
describe('ingest refuses an incoherent backend combination at start-up', function () {
  this.timeout(120_000);
  let dataDir: string;
  before(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'triggers-refusal-'));
  });
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('TRIGGERS_CACHE=memory with PostgreSQL and Kafka: exit 1, a message naming TRIGGERS_CACHE and the stores, nothing written', async function () {
    const env = {
      PATH: process.env.PATH,
      TRIGGERS_DATA_DIR: dataDir,
      TRIGGERS_EVENT_STORE: 'postgres',
      TRIGGERS_METADATA_STORE: 'postgres',
      TRIGGERS_QUEUE: 'kafka',
      TRIGGERS_CACHE: 'memory',
      // Closed ports: a process that got past the settings would fail differently (or hang).
      TRIGGERS_POSTGRES_URL: 'postgres://triggers@127.0.0.1:9/none',
      TRIGGERS_KAFKA_BROKERS: '127.0.0.1:9',
      TRIGGERS_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'),
      PORT: '0',
    };
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdout.resume();
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 1, stderr);
    assert.match(stderr, /Invalid setting TRIGGERS_CACHE: memory cannot be combined with TRIGGERS_EVENT_STORE=postgres, TRIGGERS_METADATA_STORE=postgres, TRIGGERS_QUEUE=kafka/);
    assert.deepEqual(fs.readdirSync(dataDir), [], 'no SQLite file opened');
  });
});
