/**
 * Starts an all-in-one and runs Schemathesis against it, in this process's network namespace:
 * schemathesis.test.ts runs this under `unshare --net` with only loopback up, so the webhooks the
 * fuzzer subscribes (any URL the document allows) can reach nothing but this machine's loopback.
 *
 *   node --import tsx services/all-in-one/src/schemathesis-run.ts <st> [extra st arguments...]
 *
 * Exits with Schemathesis's exit code; its report is on stdout.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer, TEST_ADMIN_TOKEN } from './test-server.ts';

const CONFIG_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../schemathesis');

const [st, ...extra] = process.argv.slice(2);
if (!st) {
  process.stderr.write('usage: schemathesis-run.ts <path to st> [st arguments...]\n');
  process.exit(2);
}

const server = await startTestServer({
  // The fuzzer's webhook URLs may name any address; in this namespace none but loopback answers.
  TRIGGERS_SSRF_ALLOW: 'private',
  // One-event-per-second limits would make most of the run a 429; the limiter has its own tests.
  TRIGGERS_RATE_LIMIT_PER_SECOND: '1000000',
});
const customer = await server.createCustomer({ name: 'Schemathesis', email: 'schemathesis@example.test' });
const code = await new Promise<number>((resolve, reject) => {
  const child = spawn(st, ['--config-file', path.join(CONFIG_DIR, 'schemathesis.toml'), 'run', `${server.url}/openapi.json`, ...extra], {
    cwd: CONFIG_DIR,
    env: { ...process.env, PYTHONPATH: CONFIG_DIR, TRIGGERS_API_KEY: customer.apiKey, TRIGGERS_ADMIN_TOKEN: TEST_ADMIN_TOKEN, NO_COLOR: '1' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.on('error', reject);
  child.on('close', (exitCode) => resolve(exitCode ?? 1));
});
await server.close();
process.exit(code);
