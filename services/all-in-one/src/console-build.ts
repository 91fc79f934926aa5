import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { CONSOLE_DIR, CONSOLE_DIST_DIR } from '@triggers/inbox';

/**
 * Builds the web console (`vite build` in console/) when its files are missing or older than its
 * sources, so that `npm install && npm start` serves it without a separate step.
 */

export type ConsoleBuildState = 'fresh' | 'missing' | 'stale';

const SOURCES = ['src', 'public', 'index.html', 'vite.config.ts', 'package.json'];

function newestMtime(target: string): number {
  if (!existsSync(target)) return 0;
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(target)) newest = Math.max(newest, newestMtime(path.join(target, entry)));
  return newest;
}

export function consoleBuildState(consoleDir = CONSOLE_DIR, distDir = CONSOLE_DIST_DIR): ConsoleBuildState {
  const index = path.join(distDir, 'index.html');
  if (!existsSync(index)) return 'missing';
  const built = statSync(index).mtimeMs;
  const sources = Math.max(...SOURCES.map((s) => newestMtime(path.join(consoleDir, s))));
  return sources > built ? 'stale' : 'fresh';
}

/** The local vite's CLI, resolved from the console workspace. */
function viteCli(consoleDir: string): string {
  const require = createRequire(path.join(consoleDir, 'package.json'));
  const manifest = require.resolve('vite/package.json');
  const bin = (require(manifest) as { bin: string | Record<string, string> }).bin;
  return path.join(path.dirname(manifest), typeof bin === 'string' ? bin : bin.vite);
}

export interface ConsoleBuildResult {
  ok: boolean;
  ms: number;
  /** The build's output, for a failure message. */
  output: string;
}

/** Runs `vite build` in the console folder with this Node; never throws. */
export function buildConsole(consoleDir = CONSOLE_DIR): Promise<ConsoleBuildResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    let cli: string;
    try {
      cli = viteCli(consoleDir);
    } catch (error) {
      resolve({ ok: false, ms: 0, output: `vite is not installed (${error instanceof Error ? error.message : String(error)}); run npm install` });
      return;
    }
    const chunks: Buffer[] = [];
    const child = spawn(process.execPath, [cli, 'build', '--logLevel', 'warn'], { cwd: consoleDir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } });
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', (error) => resolve({ ok: false, ms: Date.now() - started, output: error.message }));
    child.on('close', (code) => resolve({ ok: code === 0, ms: Date.now() - started, output: Buffer.concat(chunks).toString('utf8') }));
  });
}

/**
 * Builds the console unless its files are current. `print` gets one line before and one after;
 * a failed build is reported and the server starts anyway (the console page then says how to build).
 */
export async function ensureConsoleBuilt(print: (line: string) => void = () => undefined): Promise<ConsoleBuildState | 'built' | 'failed'> {
  const state = consoleBuildState();
  if (state === 'fresh') return state;
  print(`  Building the console (console/dist is ${state === 'missing' ? 'missing' : 'older than its sources'})…`);
  const result = await buildConsole();
  if (result.ok) {
    print(`  Built the console in ${(result.ms / 1000).toFixed(1)} s.`);
    return 'built';
  }
  const tail = result.output.trim().split('\n').slice(-12).join('\n    ');
  print(`  Could not build the console; starting without it. Build it with: npm run build -w console\n    ${tail}`);
  return 'failed';
}
