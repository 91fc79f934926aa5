import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROLES, bundlePath } from '../../docker/bundle.mjs';
import { repoPath } from './lib/repo.ts';

/**
 * Issue 9, item 1, without a container engine: the Dockerfile's stages refer to files and stages
 * that exist, copy nothing the .dockerignore drops, and keep the promises written in its header
 * (pinned Node 20 slim base, production dependencies only, non-root, tini, no HEALTHCHECK); the
 * entrypoint accepts exactly the roles the bundle step builds.
 */

interface Instruction {
  stage: string;
  keyword: string;
  args: string;
}

/** The Dockerfile as instructions (continuation lines joined, comments dropped), each with its stage. */
function parseDockerfile(text: string): { args: Record<string, string>; stages: string[]; instructions: Instruction[] } {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const args: Record<string, string> = {};
  const stages: string[] = [];
  const instructions: Instruction[] = [];
  let stage = '';
  for (const line of lines) {
    const [keyword, ...rest] = line.split(/\s+/);
    const body = rest.join(' ');
    if (keyword.toUpperCase() === 'FROM') {
      stage = /\bAS\s+(\S+)/i.exec(body)?.[1] ?? `stage-${stages.length}`;
      stages.push(stage);
    }
    if (keyword.toUpperCase() === 'ARG' && !stage) {
      const [name, value] = body.split('=');
      args[name] = value;
    }
    instructions.push({ stage, keyword: keyword.toUpperCase(), args: body });
  }
  return { args, stages, instructions };
}

/** Whether the .dockerignore drops `file` (the patterns used there: plain paths, `**\/name`, `*.ext`). */
function ignored(file: string, patterns: string[]): boolean {
  const segments = file.split('/');
  return patterns.some((pattern) => {
    if (pattern.startsWith('**/')) return segments.includes(pattern.slice(3));
    if (pattern.startsWith('*.')) return file.endsWith(pattern.slice(1));
    return file === pattern || file.startsWith(`${pattern}/`);
  });
}

const dockerfile = parseDockerfile(fs.readFileSync(repoPath('Dockerfile'), 'utf8'));
const ignorePatterns = fs
  .readFileSync(repoPath('.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const finalStage = dockerfile.stages.at(-1)!;
const inStage = (stage: string) => dockerfile.instructions.filter((i) => i.stage === stage);
const runs = (stage: string) => inStage(stage).filter((i) => i.keyword === 'RUN').map((i) => i.args).join('\n');

describe('Dockerfile', () => {
  it('copies from the build context only files that exist and that .dockerignore keeps', () => {
    const copies = dockerfile.instructions.filter((i) => (i.keyword === 'COPY' || i.keyword === 'ADD') && !i.args.includes('--from='));
    assert.ok(copies.length >= 2);
    for (const copy of copies) {
      const parts = copy.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      for (const source of parts.slice(0, -1)) {
        assert.ok(fs.existsSync(repoPath(source)), `COPY source ${source} exists`);
        if (source !== '.') assert.ok(!ignored(source, ignorePatterns), `COPY source ${source} is not dropped by .dockerignore`);
      }
    }
  });

  it('copies --from stages defined earlier, and its own build inputs are not dropped by .dockerignore', () => {
    for (const [index, instruction] of dockerfile.instructions.entries()) {
      const from = /--from=(\S+)/.exec(instruction.args)?.[1];
      if (!from) continue;
      const defined = dockerfile.instructions.slice(0, index).some((i) => i.keyword === 'FROM' && new RegExp(`\\bAS\\s+${from}\\b`, 'i').test(i.args));
      assert.ok(defined, `stage ${from} is defined before it is copied from`);
    }
    for (const needed of ['package.json', 'package-lock.json', 'docker/bundle.mjs', 'docker/entrypoint.sh', 'console/src/main.tsx', ...Object.values(ROLES)]) {
      assert.ok(!ignored(needed, ignorePatterns), `${needed} reaches the build context`);
    }
    for (const dropped of ['node_modules', 'console/dist', 'dist', 'data', '.git']) assert.ok(ignored(dropped, ignorePatterns), `${dropped} is not sent`);
  });

  it('the manifests stage\'s script copies the lockfile and the package.json of every workspace (run here on the tree)', () => {
    const script = /node -e '([^']+)'/.exec(runs('manifests'))?.[1];
    assert.ok(script, 'the manifests stage runs node -e');
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'triggers-manifests-'));
    try {
      const result = spawnSync(process.execPath, ['-e', script.replaceAll('"/manifests"', JSON.stringify(out))], { cwd: repoPath('.'), encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      const root = JSON.parse(fs.readFileSync(repoPath('package.json'), 'utf8'));
      for (const file of ['package.json', 'package-lock.json', ...root.workspaces.map((w: string) => `${w}/package.json`)]) {
        assert.equal(fs.readFileSync(path.join(out, file), 'utf8'), fs.readFileSync(repoPath(file), 'utf8'), file);
      }
      const copied = spawnSync('find', [out, '-type', 'f'], { encoding: 'utf8' }).stdout.trim().split('\n');
      assert.equal(copied.length, 2 + root.workspaces.length, 'nothing but manifests');
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it('builds FROM the official Node 20 bookworm-slim image pinned by its full version tag', () => {
    const froms = dockerfile.instructions.filter((i) => i.keyword === 'FROM');
    for (const from of froms) assert.match(from.args, /^\$\{NODE_IMAGE\}\s+AS\s+\S+$/i, `every stage uses the pinned base: ${from.args}`);
    assert.match(dockerfile.args.NODE_IMAGE, /^node:20\.\d+\.\d+-bookworm-slim$/);
  });

  it('builds the console and the bundles with every dependency, and ships only `npm ci --omit=dev`', () => {
    const build = runs('build');
    assert.match(build, /npm ci\b(?!.*--omit)/);
    assert.match(build, /apt-get install .*python3 make g\+\+/, 'better-sqlite3 can compile when no prebuilt binary matches');
    assert.match(build, /npm run build -w console/);
    assert.match(build, /node docker\/bundle\.mjs --out /);
    assert.match(runs('prod-deps'), /npm ci --omit=dev/);
    const copiedIntoFinal = inStage(finalStage).filter((i) => i.keyword === 'COPY').map((i) => i.args);
    assert.ok(copiedIntoFinal.some((c) => c.includes('--from=prod-deps') && c.includes('node_modules')), 'node_modules come from the production install');
    assert.ok(!copiedIntoFinal.some((c) => c.includes('--from=build') && c.includes('node_modules')), 'no node_modules from the build stage');
  });

  it('runs as a non-root numeric user under tini, with NODE_ENV=production, the data folder at /data and no HEALTHCHECK', () => {
    const final = inStage(finalStage);
    const user = final.filter((i) => i.keyword === 'USER').at(-1)?.args ?? '';
    assert.match(user, /^[1-9]\d*:[1-9]\d*$/, 'numeric non-root uid:gid (runAsNonRoot can check it)');
    assert.match(runs(finalStage), /apt-get install .*\btini\b/);
    assert.doesNotMatch(runs(finalStage), /g\+\+|python3/, 'no compiler in the runtime image');
    const entrypoint = final.find((i) => i.keyword === 'ENTRYPOINT')!.args;
    assert.deepEqual(JSON.parse(entrypoint), ['/usr/bin/tini', '--', '/app/docker/entrypoint.sh']);
    const env = final.filter((i) => i.keyword === 'ENV').map((i) => i.args).join(' ');
    assert.match(env, /NODE_ENV=production/);
    assert.match(env, /TRIGGERS_DATA_DIR=\/data/);
    assert.ok(!dockerfile.instructions.some((i) => i.keyword === 'HEALTHCHECK'), 'no HEALTHCHECK');
    assert.ok(Object.keys(ROLES).includes(JSON.parse(final.find((i) => i.keyword === 'CMD')!.args)[0]), 'the default command is a role');
  });

  it('the entrypoint maps exactly the roles the bundle step builds, each to its bundle', () => {
    const script = fs.readFileSync(repoPath('docker/entrypoint.sh'), 'utf8');
    const mapped = Object.fromEntries([...script.matchAll(/^\s+([a-z]+)\) entry=(\S+) ;;$/gm)].map((m) => [m[1], m[2]]));
    assert.deepEqual(Object.keys(mapped).sort(), Object.keys(ROLES).sort());
    for (const [role, entry] of Object.entries(ROLES)) assert.equal(mapped[role], bundlePath(entry), role);
    assert.equal(fs.statSync(repoPath('docker/entrypoint.sh')).mode & 0o111, 0o111, 'entrypoint.sh is executable');
    const header = fs.readFileSync(repoPath('Dockerfile'), 'utf8').split('\n').slice(0, 6).join('\n');
    for (const role of Object.keys(ROLES)) assert.match(header, new RegExp(`\\b${role}\\b`), `the Dockerfile's header names ${role}`);
  });

  it('every role is documented in docs/kubernetes.md\'s role table, and nothing else is', () => {
    const doc = fs.readFileSync(repoPath('docs/kubernetes.md'), 'utf8');
    const table = doc.slice(doc.indexOf('| role | runs |'), doc.indexOf('\n\n', doc.indexOf('| role | runs |')));
    const documented = [...table.matchAll(/^\| `([a-z]+)` \|/gm)].map((m) => m[1]);
    assert.deepEqual(documented.sort(), Object.keys(ROLES).sort());
  });

  it('every repository path docs/kubernetes.md names exists', () => {
    const doc = fs.readFileSync(repoPath('docs/kubernetes.md'), 'utf8');
    const paths = new Set([...doc.matchAll(/`((?:charts|k8s|docker|crds|services|packages|scripts)\/[A-Za-z0-9_./-]+?)`/g)].map((m) => m[1].replace(/\/$/, '')));
    assert.ok(paths.size >= 10, [...paths].join(', '));
    for (const p of paths) assert.ok(fs.existsSync(repoPath(p)), `${p} exists`);
  });
});
