import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '@triggers/all-in-one/test-server';
import { requireEngine, runCommand as run, type EngineRequirement } from '@triggers/testkit';

/**
 * The Python SDK's pytest suite (sdks/python/tests) against a real all-in-one started here: the
 * tests reach it through TRIGGERS_URL, make customers with the admin token, and use TRIGGERS_API_KEY
 * as the clients' default. The Python with the SDK and pytest comes from TRIGGERS_TEST_PYTHON
 * (scripts/engines/python-sdk.sh install, then its `python`); without it this skips, and under
 * TRIGGERS_REQUIRE_BACKENDS=1 it fails.
 */
const PROJECT = path.dirname(fileURLToPath(import.meta.url));

const PYTHON_SDK: EngineRequirement = {
  name: 'Python with the SDK and pytest',
  variable: 'TRIGGERS_TEST_PYTHON',
  async probe(python) {
    const result = await run(python, ['-c', 'import triggers, httpx, pytest, pytest_asyncio'], { timeoutMs: 15_000 });
    if (result.code !== 0) throw new Error(result.output.trim().split('\n').pop() ?? `exit ${result.code}`);
  },
  hint: 'scripts/engines/python-sdk.sh install, then set TRIGGERS_TEST_PYTHON=$(scripts/engines/python-sdk.sh python)',
  timeoutMs: 15_000,
};

describe('Python SDK (sdks/python): pytest against a real all-in-one', function () {
  this.timeout(300_000);
  const python = requireEngine(PYTHON_SDK);
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.close();
  });

  it('passes every pytest test, none skipped', async () => {
    const customer = await server.createCustomer({ name: 'Python SDK default', email: 'python-sdk@example.test' });
    const started = Date.now();
    const result = await run(python.address, ['-m', 'pytest', '-q', '-rsx', '--color=no'], {
      cwd: PROJECT,
      env: { ...process.env, TRIGGERS_URL: server.url, TRIGGERS_API_KEY: customer.apiKey, TRIGGERS_ADMIN_TOKEN: TEST_ADMIN_TOKEN, PYTHONDONTWRITEBYTECODE: '1' },
      timeoutMs: 280_000,
    });
    assert.equal(result.code, 0, `pytest exited ${result.code}:\n${result.output}`);
    const summary = result.output.trim().split('\n').pop() ?? '';
    const passed = Number(/(\d+) passed/.exec(summary)?.[1] ?? 0);
    assert.ok(passed > 0, `pytest ran no test:\n${result.output}`);
    assert.doesNotMatch(summary, /skipped|xfailed|xpassed|deselected|error/, `pytest did not run everything against the server:\n${result.output}`);
    console.log(`      pytest ran ${passed} Python SDK tests, all green, in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
});
