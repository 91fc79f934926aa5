import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireEngine, runCommand, type EngineRequirement } from '@triggers/testkit';

/**
 * Schemathesis (pinned: scripts/engines/schemathesis.sh) against a real all-in-one through its
 * /openapi.json: every check, the examples, coverage, fuzzing and stateful phases, a customer API key
 * and the admin token, about 4.5 minutes (services/all-in-one/schemathesis/schemathesis.toml, where
 * every exclusion stands beside its reason). Zero failures is the bar.
 *
 * The server and Schemathesis run in a network namespace of their own with only loopback up
 * (`unshare --net`, root): the fuzzer subscribes webhooks to any URL the document allows, and the
 * deliverer must reach nothing off this machine. The `st` command comes from TRIGGERS_TEST_SCHEMATHESIS;
 * without it this skips, and under TRIGGERS_REQUIRE_BACKENDS=1 it fails.
 */
const HERE = path.dirname(fileURLToPath(import.meta.url));
const RUNNER = path.join(HERE, 'schemathesis-run.ts');
const VERSION = '4.32.5';

const SCHEMATHESIS: EngineRequirement = {
  name: `Schemathesis ${VERSION}`,
  variable: 'TRIGGERS_TEST_SCHEMATHESIS',
  async probe(st) {
    const result = await runCommand(st, ['--version'], { timeoutMs: 30_000 });
    if (!result.output.includes(VERSION)) throw new Error(`${st} --version: ${result.output.trim()} (want ${VERSION})`);
  },
  hint: 'scripts/engines/schemathesis.sh install, then set TRIGGERS_TEST_SCHEMATHESIS=$(scripts/engines/schemathesis.sh bin)',
  timeoutMs: 30_000,
};

describe('Schemathesis against the all-in-one (/openapi.json, all checks, stateful phase)', function () {
  this.timeout(480_000);
  const st = requireEngine(SCHEMATHESIS);

  it('finds no failure in any phase', async () => {
    const started = Date.now();
    // Inside the new namespace: bring loopback up, then start the server and Schemathesis (the runner).
    const result = await runCommand(
      'unshare',
      ['--net', '--', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', process.execPath, '--import', 'tsx', RUNNER, st.address],
      { env: { ...process.env, TRIGGERS_LOG_LEVEL: 'silent' }, timeoutMs: 450_000 },
    );
    const output = result.output;
    assert.equal(result.code, 0, `Schemathesis exited ${result.code}:\n${output.slice(-20_000)}`);
    for (const phase of ['Examples', 'Coverage', 'Fuzzing', 'Stateful']) {
      assert.match(output, new RegExp(`✅\\s+${phase} \\(in `), `the ${phase} phase did not run and pass:\n${output.slice(-5000)}`);
    }
    const summary = /(\d+) generated, (\d+) passed/.exec(output);
    assert.ok(summary, `no case summary:\n${output.slice(-5000)}`);
    const [generated, passed] = [Number(summary[1]), Number(summary[2])];
    assert.ok(generated >= 300, `only ${generated} cases`);
    assert.equal(passed, generated);
    assert.doesNotMatch(output, /\d+ (failures?|errors?)\b/, output.slice(-5000));
    console.log(`      Schemathesis ${VERSION}: ${generated} cases, 0 failures, in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  });
});
