import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findCycles, findLayerViolations, isTestFile, readWorkspaceGraph, siblingImportsOf, type WorkspaceGraph } from './workspace-layers.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** A workspace with what it declares and imports; `imports` as `[target, file]`. */
function workspace(name: string, declared: { deps?: string[]; dev?: string[] }, imports: [string, string][] = []): WorkspaceGraph {
  return {
    name,
    dir: name,
    dependencies: declared.deps ?? [],
    devDependencies: declared.dev ?? [],
    imports: imports.map(([target, file]) => ({ target, file, test: isTestFile(file) })),
    missingEntries: [],
  };
}

/** The tree's shape as the layout wants it: each test below breaks it in one place. */
function healthyTree(): WorkspaceGraph[] {
  return [
    workspace('@triggers/core', { dev: ['@triggers/testkit'] }, [['@triggers/testkit', 'src/backends/sqlite/queue.test.ts']]),
    workspace('@triggers/testkit', { deps: ['@triggers/core'] }, [['@triggers/core', 'src/queue.conformance.ts']]),
    workspace('@triggers/demo', { deps: ['@triggers/core'], dev: ['@triggers/inbox'] }, [['@triggers/inbox', 'src/demo-routes.test.ts']]),
    workspace('@triggers/inbox', { deps: ['@triggers/core', '@triggers/demo'], dev: ['@triggers/all-in-one', '@triggers/testkit'] }, [
      ['@triggers/demo', 'src/index.ts'],
      ['@triggers/all-in-one', 'src/inbox.test.ts'],
      ['@triggers/testkit', 'src/inbox.test.ts'],
    ]),
    workspace('@triggers/all-in-one', { deps: ['@triggers/core', '@triggers/inbox'], dev: ['@triggers/testkit'] }, [['@triggers/inbox', 'src/server.ts']]),
  ];
}

function replace(tree: WorkspaceGraph[], changed: WorkspaceGraph): WorkspaceGraph[] {
  return tree.map((w) => (w.name === changed.name ? changed : w));
}

describe('workspace layers', () => {
  describe('the checker', () => {
    it('passes the layout: down-pointing dependencies, tests using their dev dependencies', () => {
      assert.deepEqual(findLayerViolations(healthyTree()), []);
    });

    it('fails an import of a sibling the package.json does not declare', () => {
      const tree = replace(healthyTree(), workspace('@triggers/demo', { deps: ['@triggers/core'] }, [['@triggers/testkit', 'src/stats.test.ts']]));
      assert.deepEqual(findLayerViolations(tree), ['@triggers/demo (src/stats.test.ts): imports @triggers/testkit, which its package.json does not declare']);
    });

    it('fails a dev dependency used outside a test file (test helpers in a production folder)', () => {
      const inbox = workspace('@triggers/inbox', { deps: ['@triggers/core'], dev: ['@triggers/testkit'] }, [['@triggers/testkit', 'src/test-helpers.ts']]);
      assert.deepEqual(findLayerViolations(replace(healthyTree(), inbox)), [
        '@triggers/inbox (src/test-helpers.ts): imports @triggers/testkit, a dev dependency, outside a test file',
      ]);
    });

    it('fails testkit as a production dependency', () => {
      const inbox = workspace('@triggers/inbox', { deps: ['@triggers/core', '@triggers/testkit'] });
      assert.deepEqual(findLayerViolations(replace(healthyTree(), inbox)), ['@triggers/inbox: declares @triggers/testkit in dependencies; it is a dev dependency only']);
    });

    it('fails a back-arrow: a service depending on the all-in-one, the core on anything, testkit on the all-in-one', () => {
      const service = workspace('@triggers/inbox', { deps: ['@triggers/core', '@triggers/all-in-one'] }, [['@triggers/all-in-one', 'src/index.ts']]);
      assert.deepEqual(findLayerViolations(replace(healthyTree(), service)), ['back-arrow: @triggers/inbox depends on @triggers/all-in-one', 'cycle: @triggers/all-in-one -> @triggers/inbox -> @triggers/all-in-one']);

      const core = workspace('@triggers/core', { deps: ['@triggers/demo'] }, [['@triggers/demo', 'src/backends.ts']]);
      assert.deepEqual(findLayerViolations(replace(healthyTree(), core)), ['back-arrow: @triggers/core depends on @triggers/demo', 'cycle: @triggers/core -> @triggers/demo -> @triggers/core']);

      const testkit = workspace('@triggers/testkit', { deps: ['@triggers/core'], dev: ['@triggers/all-in-one'] }, [['@triggers/all-in-one', 'src/test-server.test.ts']]);
      assert.deepEqual(findLayerViolations(replace(healthyTree(), testkit)), [
        'back-arrow: @triggers/testkit declares @triggers/all-in-one (harness flows down, never up)',
        'back-arrow: @triggers/testkit depends on @triggers/all-in-one',
      ]);
    });

    it('fails a cycle between two services of the same layer', () => {
      const demo = workspace('@triggers/demo', { deps: ['@triggers/core', '@triggers/inbox'] }, [['@triggers/inbox', 'src/index.ts']]);
      assert.deepEqual(findLayerViolations(replace(healthyTree(), demo)), ['cycle: @triggers/demo -> @triggers/inbox -> @triggers/demo']);
    });

    it('fails a package.json entry that points at no file', () => {
      const core = { ...healthyTree()[0], missingEntries: ['src/index.ts'] };
      assert.deepEqual(findLayerViolations(replace(healthyTree(), core)), ['@triggers/core: package.json points at src/index.ts, which does not exist']);
    });

    it('finds each cycle once, however it is entered', () => {
      const edges = new Map([
        ['a', new Set(['b'])],
        ['b', new Set(['c'])],
        ['c', new Set(['a', 'd'])],
        ['d', new Set<string>()],
      ]);
      assert.deepEqual(findCycles(edges), [['a', 'b', 'c', 'a']]);
    });

    it('reads static, dynamic and side-effect imports of siblings, not those in comments', () => {
      // Built from pieces so this file's own imports stay what they are.
      const at = '@triggers/';
      const source = [
        `import { a } from '${at}core/domain';`,
        `import type { B } from '${at}testkit';`,
        `export { c } from '${at}ingest';`,
        `import '${at}matcher';`,
        `const d = await import('${at}deliverer');`,
        `// import { e } from '${at}inbox';`,
        `/** see \`import('${at}all-in-one')\` */`,
        `import fs from 'node:fs';`,
      ].join('\n');
      assert.deepEqual(siblingImportsOf(source).sort(), ['@triggers/core', '@triggers/deliverer', '@triggers/ingest', '@triggers/matcher', '@triggers/testkit']);
    });

    it('counts *.test.ts, *.test-support.ts, *.testing.ts and files under tests/ as test files', () => {
      const tests = ['src/inbox.test.ts', 'src/distributed.test-support.ts', 'src/e2e-harness.testing.ts', 'tests/console.browser.test.ts'];
      const production = ['src/test-server.ts', 'src/testing/index.ts'];
      assert.deepEqual([...tests, ...production].filter(isTestFile), tests);
    });
  });

  it('hold in this tree: every sibling import declared, no back-arrow, no cycle, no missing entry point', () => {
    const graph = readWorkspaceGraph(ROOT);
    assert.ok(graph.length >= 8, `read ${graph.length} workspaces`);
    assert.deepEqual(findLayerViolations(graph), []);
  });
});
