import fs from 'node:fs';
import path from 'node:path';

/**
 * The layers of the npm workspaces, checked from their package.json files and their imports:
 * dependencies point down only (core ← testkit; core ← services ← all-in-one), every import of a
 * sibling is declared, testkit is a dev dependency only, and the production graph has no cycle.
 * `workspace-layers.test.ts` runs it on the tree, so a back-arrow fails `npm test`.
 */

/** Lower layers are imported by higher ones, never the reverse. A workspace not named here is a service. */
export const LAYERS: Readonly<Record<string, number>> = {
  '@triggers/core': 0,
  '@triggers/testkit': 1,
  '@triggers/all-in-one': 3,
  '@triggers/console': 4,
};
const SERVICE_LAYER = 2;
/** Test harness: a dev dependency only, and it never reaches above the core. */
const TEST_ONLY = '@triggers/testkit';

export interface SiblingImport {
  /** Relative to the workspace folder. */
  file: string;
  /** A test or test-support file (`*.test.ts`, `*.test-support.ts`, `*.testing.ts`, under `tests/`): may use dev dependencies. */
  test: boolean;
  /** The imported workspace's package name. */
  target: string;
}

export interface WorkspaceGraph {
  name: string;
  dir: string;
  dependencies: string[];
  devDependencies: string[];
  imports: SiblingImport[];
  /** package.json `main`/`exports` targets that point at no file. */
  missingEntries: string[];
}

export function layerOf(name: string): number {
  return LAYERS[name] ?? SERVICE_LAYER;
}

/** Every broken rule, one line each; empty when the layers hold. */
export function findLayerViolations(workspaces: readonly WorkspaceGraph[]): string[] {
  const names = new Set(workspaces.map((w) => w.name));
  const violations: string[] = [];
  const production = new Map<string, Set<string>>(workspaces.map((w) => [w.name, new Set<string>()]));

  for (const w of workspaces) {
    for (const entry of w.missingEntries) violations.push(`${w.name}: package.json points at ${entry}, which does not exist`);
    const deps = w.dependencies.filter((d) => names.has(d));
    const devDeps = w.devDependencies.filter((d) => names.has(d));
    for (const dep of deps) {
      production.get(w.name)!.add(dep);
      if (dep === TEST_ONLY) violations.push(`${w.name}: declares ${TEST_ONLY} in dependencies; it is a dev dependency only`);
    }
    for (const dep of [...deps, ...devDeps]) {
      if (w.name === TEST_ONLY && layerOf(dep) > layerOf(TEST_ONLY)) violations.push(`back-arrow: ${w.name} declares ${dep} (harness flows down, never up)`);
    }
    for (const imported of w.imports) {
      if (imported.target === w.name || !names.has(imported.target)) continue;
      const where = `${w.name} (${imported.file})`;
      if (!imported.test || w.name === TEST_ONLY) production.get(w.name)!.add(imported.target);
      if (deps.includes(imported.target)) continue;
      if (devDeps.includes(imported.target)) {
        if (!imported.test) violations.push(`${where}: imports ${imported.target}, a dev dependency, outside a test file`);
        continue;
      }
      violations.push(`${where}: imports ${imported.target}, which its package.json does not declare`);
    }
  }

  for (const [from, targets] of production) {
    for (const to of targets) {
      if (layerOf(to) > layerOf(from)) violations.push(`back-arrow: ${from} depends on ${to}`);
    }
  }
  for (const cycle of findCycles(production)) violations.push(`cycle: ${cycle.join(' -> ')}`);
  return [...new Set(violations)].sort();
}

/** Each elementary cycle once, as a path that starts and ends at its smallest name. */
export function findCycles(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const cycles = new Map<string, string[]>();
  const visit = (node: string, trail: string[]) => {
    const at = trail.indexOf(node);
    if (at >= 0) {
      const loop = trail.slice(at);
      const start = loop.indexOf([...loop].sort()[0]);
      const rotated = [...loop.slice(start), ...loop.slice(0, start)];
      cycles.set(rotated.join('>'), [...rotated, rotated[0]]);
      return;
    }
    for (const next of edges.get(node) ?? []) visit(next, [...trail, node]);
  };
  for (const node of edges.keys()) visit(node, []);
  return [...cycles.values()];
}

const SOURCE = /\.(ts|tsx|mts|cts|js|mjs|cjs)$/;
const TEST_FILE = /\.(test|test-support|testing)\.(ts|tsx|mts|js|mjs)$/;
const SKIPPED_FOLDERS = new Set(['node_modules', 'dist', 'build', 'coverage']);
const SPECIFIERS = [
  /\bfrom\s*['"]([^'"]+)['"]/g,
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  /^\s*import\s*['"]([^'"]+)['"]/gm,
  /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
];

/** The package names of the `@triggers/*` workspaces a source text imports (comments ignored). */
export function siblingImportsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found = new Set<string>();
  for (const pattern of SPECIFIERS) {
    for (const match of code.matchAll(pattern)) {
      const specifier = match[1];
      if (!specifier.startsWith('@triggers/')) continue;
      found.add(specifier.split('/').slice(0, 2).join('/'));
    }
  }
  return [...found];
}

export function isTestFile(relativePath: string): boolean {
  return TEST_FILE.test(relativePath) || relativePath.split('/').some((part) => part === 'tests' || part === 'fixtures');
}

/** The workspaces the root package.json lists, with their declarations and sibling imports. */
export function readWorkspaceGraph(root: string): WorkspaceGraph[] {
  const rootManifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { workspaces?: string[] };
  return (rootManifest.workspaces ?? []).map((folder) => {
    const dir = path.join(root, folder);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
      name: string;
      main?: string;
      exports?: string | Record<string, string>;
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    const imports: SiblingImport[] = [];
    for (const file of sourceFiles(dir)) {
      const relative = path.relative(dir, file).split(path.sep).join('/');
      for (const target of siblingImportsOf(fs.readFileSync(file, 'utf8'))) imports.push({ file: relative, test: isTestFile(relative), target });
    }
    const entries = [manifest.main, ...(typeof manifest.exports === 'string' ? [manifest.exports] : Object.values(manifest.exports ?? {}))];
    const missingEntries = entries.filter((e): e is string => typeof e === 'string' && !e.includes('*') && !fs.existsSync(path.join(dir, e)));
    return {
      name: manifest.name,
      dir: folder,
      dependencies: Object.keys(manifest.dependencies ?? {}),
      devDependencies: Object.keys(manifest.devDependencies ?? {}),
      imports,
      missingEntries,
    };
  });
}

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || SKIPPED_FOLDERS.has(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(full));
    else if (SOURCE.test(entry.name)) files.push(full);
  }
  return files;
}
