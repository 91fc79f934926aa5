// Runs every *.test.ts under packages/, services/, cli/src/, bench/, console/tests/, charts/tests/ and sdks/python/ with mocha (TypeScript through tsx).
// `npm test -- <files or globs>` runs just those.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const specs = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
const targets = specs.length > 0 ? specs : ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'cli/src/**/*.test.ts', 'bench/**/*.test.ts', 'console/tests/**/*.test.ts', 'charts/tests/**/*.test.ts', 'sdks/python/*.test.ts'];

const result = spawnSync(
  process.execPath,
  [
    // Node 20.19+ can require() ES modules, and then mocha require()s each spec file: tsx compiles
    // it to CommonJS, while the code it loads with import() comes in as ES modules, so one process
    // held two copies of a module (two ExactNumber classes, two serialiser states). Without
    // require(esm), mocha import()s the specs and every module is loaded once, as ESM, the way
    // `npm start` loads them. packages/testkit/src/single-module-copy.test.ts checks it.
    '--no-experimental-require-module',
    '--import',
    'tsx',
    path.join(root, 'node_modules/mocha/bin/mocha.js'),
    '--reporter',
    path.join(root, 'scripts/summary-reporter.cjs'),
    '--timeout',
    '20000',
    // No --exit: the run ends when the tests leave nothing open, and this root hook fails the
    // suite that does (a server, socket, timer, child process or worker still open after it).
    '--require',
    path.join(root, 'packages/testkit/src/leak-check.ts'),
    ...flags,
    ...targets,
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, TRIGGERS_LOG_LEVEL: process.env.TRIGGERS_LOG_LEVEL ?? 'silent' } },
);
process.exit(result.status ?? 1);
