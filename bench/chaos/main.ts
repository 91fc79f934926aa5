/**
 * `npm run chaos -- --backends postgres-redis-kafka,dynamodb-sqs [flags]`: the chaos drill on the
 * distributed services (issue 10, item 4; docs/crash-safety.md). For each backend combination it
 * runs the drill (drill.ts), prints a summary, and exits 1 if an acknowledged event was lost or
 * failed outside the delivery rules, if the events never settled, or if a killed service or the
 * restarted engine never came back (duplicates are only reported).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BACKEND_PRESETS, resolveEngines } from '../lib/backends.ts';
import { failures, runDrill, type DrillResult } from './drill.ts';
import { formatResult } from './report.ts';
import { buildServiceBundles } from './service-bundles.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const HELP = `Usage: npm run chaos -- [flags]

  --backends LIST       comma-separated backend combinations (default postgres-redis-kafka,dynamodb-sqs);
                        any of ${Object.keys(BACKEND_PRESETS).filter((n) => n !== 'sqlite').join(', ')}
  --duration S          seconds of load with faults per combination (default 120)
  --rate N[,NAME=N...]  events per second (default 500); NAME=N sets the rate of one combination,
                        e.g. --rate 100,dynamodb-sqs=5 (moto, the DynamoDB here, carries far less)
  --customers N         customers, each with one subscription (default 20)
  --batch N             events per POST /api/v1/events/batch (default 10)
  --kill-every A-B      seconds between two SIGKILLs of a random service (default 5-10)
  --fail-rate F         share of requests the flaky receiver answers 500 (default 0.3)
  --slow-ms MS          the slow receiver's answer time (default 100)
  --cut-ms MS           how long a network cut lasts (default 5000)
  --engine-down-ms MS   how long the drill's PostgreSQL stays stopped (default 3000)
  --settle S            seconds to wait after the load for every event to settle (default 600: at
                        500/s on 2 cores the backlog took 4.5-8 min to drain; a drain is not a loss)
  --set NAME=VALUE      a setting for every service process (repeatable), e.g. --set TRIGGERS_QUEUE_VISIBILITY_TIMEOUT_MS=30000
  --json FILE           also write the results as JSON
  --tsx                 run the services through tsx instead of prebuilt esbuild bundles (slow restarts)

The engines are the running ones (TRIGGERS_TEST_* variables, else scripts/engines/*.sh addresses);
PostgreSQL is a server of the drill's own (scripts/engines/postgres.sh on a free port), since it is
restarted during the run.`;

/** `--rate 100,dynamodb-sqs=5`: the rate of each combination (a bare number is everyone's default). */
function ratesFor(value: string, names: readonly string[]): Map<string, number> {
  let fallback: number | undefined;
  const named = new Map<string, number>();
  for (const part of value.split(',').map((p) => p.trim()).filter(Boolean)) {
    const at = part.indexOf('=');
    if (at < 0) fallback = seconds('--rate', part);
    else named.set(part.slice(0, at), seconds('--rate', part.slice(at + 1)));
  }
  for (const name of named.keys()) if (!names.includes(name)) throw new Error(`--rate: ${name} is not one of the --backends (${names.join(', ')})`);
  return new Map(
    names.map((name) => {
      const rate = named.get(name) ?? fallback;
      if (rate === undefined) throw new Error(`--rate: no rate for ${name}`);
      return [name, rate];
    }),
  );
}

function seconds(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag}: expected a positive number, got ${JSON.stringify(value)}`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      backends: { type: 'string', default: 'postgres-redis-kafka,dynamodb-sqs' },
      duration: { type: 'string', default: '120' },
      rate: { type: 'string', default: '500' },
      customers: { type: 'string', default: '20' },
      batch: { type: 'string', default: '10' },
      'kill-every': { type: 'string', default: '5-10' },
      'fail-rate': { type: 'string', default: '0.3' },
      'slow-ms': { type: 'string', default: '100' },
      'cut-ms': { type: 'string', default: '5000' },
      'engine-down-ms': { type: 'string', default: '3000' },
      settle: { type: 'string', default: '600' },
      set: { type: 'string', multiple: true, default: [] },
      json: { type: 'string' },
      tsx: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const names = values.backends.split(',').map((name) => name.trim());
  const presets = names.map((name) => {
    const preset = BACKEND_PRESETS[name];
    if (!preset || preset.name === 'sqlite') throw new Error(`--backends: unknown or not distributed: ${name} (${Object.keys(BACKEND_PRESETS).join(', ')})`);
    return preset;
  });
  const rates = ratesFor(values.rate, names);
  const killEvery = values['kill-every'].split('-').map((v) => seconds('--kill-every', v) * 1000);
  if (killEvery.length !== 2 || killEvery[0] > killEvery[1]) throw new Error('--kill-every: expected A-B seconds, A ≤ B');
  const failRate = Number(values['fail-rate']);
  if (!(failRate >= 0 && failRate < 1)) throw new Error('--fail-rate: expected a share in [0, 1)');
  const serviceEnv = Object.fromEntries(
    values.set.map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0 || !pair.startsWith('TRIGGERS_')) throw new Error(`--set: expected TRIGGERS_NAME=VALUE, got ${pair}`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );

  // The services start from bundles, as the image runs them: a killed one is back in seconds.
  const bundles = values.tsx ? undefined : await buildServiceBundles(ROOT);
  if (bundles) {
    process.once('exit', () => bundles.remove());
    process.stderr.write(`chaos: bundled the services into ${path.relative(ROOT, bundles.dir)} (${bundles.buildMs} ms)\n`);
  }
  const results: DrillResult[] = [];
  for (const [index, preset] of presets.entries()) {
    const { addresses, lines } = await resolveEngines(preset, ROOT);
    for (const line of lines) process.stderr.write(`engine: ${line}\n`);
    const result = await runDrill({
      preset,
      engines: addresses,
      rate: rates.get(names[index])!,
      durationMs: seconds('--duration', values.duration) * 1000,
      customers: Math.round(seconds('--customers', values.customers)),
      batchSize: Math.round(seconds('--batch', values.batch)),
      killEveryMs: [killEvery[0], killEvery[1]],
      failRate,
      slowMs: seconds('--slow-ms', values['slow-ms']),
      cutMs: seconds('--cut-ms', values['cut-ms']),
      engineDownMs: seconds('--engine-down-ms', values['engine-down-ms']),
      settleTimeoutMs: seconds('--settle', values.settle) * 1000,
      serviceEnv,
      bundleDir: bundles?.dir,
      log: (line) => process.stderr.write(`[chaos ${preset.name}] ${line}\n`),
    });
    results.push(result);
    process.stdout.write(`${formatResult(result)}\n`);
    if (result.diagnostics) process.stderr.write(`${result.diagnostics}\n`);
  }
  if (values.json) {
    mkdirSync(path.dirname(path.resolve(values.json)), { recursive: true });
    writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
  }
  return results.every((r) => failures(r).length === 0) ? 0 : 1;
}

// Ctrl-C or a timeout: exit through process.exit, so the 'exit' hooks of testkit stop the service
// processes and the drill's own engines.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`chaos: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exit(2);
  },
);
