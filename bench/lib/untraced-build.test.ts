import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The `ingest-traced` bench's untraced build (bench/lib/untraced-build.mjs) must stand in for the real modules. */
describe('bench: the untraced build', function () {
  this.timeout(60_000);

  for (const name of ['tracing', 'messaging', 'http-tracing']) {
    it(`the stub of telemetry/${name}.ts exports what the real module exports`, async () => {
      const real = await import(path.join(ROOT, `packages/core/src/telemetry/${name}.ts`));
      const stub = await import(path.join(ROOT, `bench/lib/untraced/${name}.ts`));
      assert.deepEqual(Object.keys(stub).sort(), Object.keys(real).sort());
    });
  }

  it('with the loader, the services import the stubs', () => {
    // The source of a function the stub writes differently from the real module.
    const script = "const rt = await import('@triggers/core/runtime'); console.log(JSON.stringify({ source: String(rt.leanSpansActive) }));";
    const run = (imports: string[]) =>
      JSON.parse(
        execFileSync(process.execPath, [...imports, '--import', 'tsx', '--input-type=module', '-e', script], {
          cwd: ROOT,
          encoding: 'utf8',
        }).trim(),
      );
    assert.doesNotMatch(run([]).source, /=>\s*false/);
    assert.match(run(['--import', './bench/lib/untraced-build.mjs']).source, /=>\s*false/, 'the stub');
  });
});
