#!/usr/bin/env node
// Bundles each role's TypeScript entry into plain ESM JavaScript for the image, so production runs
// `node dist/.../main.mjs` without tsx or any other dev dependency (the Dockerfile's build stage
// runs this; the image test in charts/tests runs it the same way).
//
//   node docker/bundle.mjs [--out DIR] [--roles ingest,inbox,...]
//     DIR defaults to <repo>/dist; --roles bundles only those roles (default: every role, as the
//     Dockerfile does); prints one line per bundle and the npm packages they import.
//
// Why bundle instead of shipping tsx as a runtime dependency: see the Dockerfile's header.
//
// - Only workspace code (`@triggers/*` and relative imports) is bundled; every npm package stays
//   external and is loaded from the production node_modules (`npm ci --omit=dev`). The build fails
//   when a bundle imports a package that is not a production dependency.
// - Each bundle is written where its entry's source sits, under DIR (services/inbox/src/main.ts →
//   DIR/services/inbox/src/main.mjs), so `import.meta.url`-relative paths in the sources resolve to
//   the same relative places: the console's files (`../../../console/dist` from
//   services/inbox/src) are copied to DIR/console/dist, and the all-in-one's worker-thread entry
//   (`./pipeline-thread-entry.mjs` beside pipeline-worker.ts) is bundled beside its main.
// - The worker entry registers tsx before importing TypeScript; in a bundle it is already
//   JavaScript, so `tsx/esm/api` is replaced by a no-op `register()`.
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The image's roles (docker/entrypoint.sh maps each to its bundle) and their entries. */
export const ROLES = {
  ingest: 'services/ingest/src/main.ts',
  matcher: 'services/matcher/src/main.ts',
  deliverer: 'services/deliverer/src/main.ts',
  inbox: 'services/inbox/src/main.ts',
  controller: 'services/controller/src/main.ts',
  all: 'services/all-in-one/src/main.ts',
};

/** Entries loaded at run time by another bundle (a worker thread), bundled beside their loader. */
export const EXTRA_ENTRIES = ['services/all-in-one/src/pipeline-thread-entry.mjs'];

/** Files the bundles read at run time, copied to the same relative place under the output. */
export const ASSETS = [{ from: 'console/dist', required: 'console/dist/index.html' }];

/** Where the bundle of a source entry is written, relative to the output folder. */
export function bundlePath(entry) {
  return entry.replace(/\.(ts|mjs)$/, '.mjs');
}

/** The npm packages production installs (`npm ci --omit=dev`): every lockfile entry not marked dev. */
export function productionPackages(root = ROOT) {
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  const names = new Set();
  for (const [key, entry] of Object.entries(lock.packages ?? {})) {
    if (!key.startsWith('node_modules/') || entry.dev || entry.link) continue;
    names.add(key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length));
  }
  return names;
}

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Keeps npm packages external (and checks they are production dependencies); bundles workspace code. */
function externalPackagesPlugin(allowed, imported) {
  return {
    name: 'external-npm-packages',
    setup(b) {
      b.onResolve({ filter: /^tsx\/esm\/api$/ }, () => ({ path: 'tsx-register-noop', namespace: 'triggers-bundle' }));
      b.onLoad({ filter: /.*/, namespace: 'triggers-bundle' }, () => ({
        contents: '// Bundled code is JavaScript already: nothing to register.\nexport function register() {}\n',
        loader: 'js',
      }));
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('@triggers/')) return undefined; // workspace code: bundled
        if (BUILTINS.has(args.path)) return { path: args.path, external: true };
        const name = packageName(args.path);
        imported.add(name);
        if (!allowed.has(name)) {
          return { errors: [{ text: `${args.path} is not a production dependency (imported by ${path.relative(ROOT, args.importer)})` }] };
        }
        return { path: args.path, external: true };
      });
    },
  };
}

/**
 * Builds every bundle into `outDir` (emptied first); returns the bundles and the packages they import.
 * `assets: false` skips the console's files (the inbox then serves a page saying they are missing):
 * for a local run of the services from bundles (bench/chaos), where the console is not built.
 * `splitting: true` keeps each `await import()` of workspace code (the backends: createBackends
 * imports only the chosen ones) in a chunk of its own under `chunks/`, loaded when it runs, so a
 * process no longer loads every backend's npm packages (AWS SDK, kafkajs, knex, ioredis, ...) at
 * start-up; code shared by several roles moves to chunks too, so it is off for the image, whose
 * import.meta.url-relative paths (the console's folder) assume the entry's place.
 */
export async function bundle(outDir = path.join(ROOT, 'dist'), { root = ROOT, roles = Object.keys(ROLES), assets = true, splitting = false } = {}) {
  const unknown = roles.filter((role) => !(role in ROLES));
  if (unknown.length > 0) throw new Error(`unknown roles: ${unknown.join(', ')} (known: ${Object.keys(ROLES).join(', ')})`);
  const extras = roles.includes('all') ? EXTRA_ENTRIES : [];
  const entries = [...roles.map((role) => ROLES[role]), ...extras];
  const missing = entries.filter((entry) => !existsSync(path.join(root, entry)));
  if (missing.length > 0) throw new Error(`missing entries: ${missing.join(', ')}`);
  for (const asset of assets ? ASSETS : []) {
    if (!existsSync(path.join(root, asset.required))) throw new Error(`${asset.required} is missing: build it first (npm run build -w console)`);
  }
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const imported = new Set();
  await build({
    absWorkingDir: root,
    entryPoints: entries.map((entry) => ({ in: entry, out: entry.replace(/\.(ts|mjs)$/, '') })),
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    splitting,
    chunkNames: 'chunks/[name]-[hash]',
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [externalPackagesPlugin(productionPackages(root), imported)],
  });
  for (const asset of assets ? ASSETS : []) cpSync(path.join(root, asset.from), path.join(outDir, asset.from), { recursive: true });
  return { outDir, bundles: entries.map(bundlePath), packages: [...imported].sort() };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--out');
  const outDir = at > 0 ? path.resolve(process.argv[at + 1]) : path.join(ROOT, 'dist');
  const rolesAt = process.argv.indexOf('--roles');
  const roles = rolesAt > 0 ? process.argv[rolesAt + 1].split(',').filter(Boolean) : undefined;
  const started = Date.now();
  bundle(outDir, { roles })
    .then((result) => {
      for (const file of result.bundles) console.log(`bundled ${path.join(path.relative(process.cwd(), outDir) || '.', file)}`);
      console.log(`external packages: ${result.packages.join(', ')} (${Date.now() - started} ms)`);
    })
    .catch((error) => {
      console.error(`bundle failed: ${error.message}`);
      process.exit(1);
    });
}
