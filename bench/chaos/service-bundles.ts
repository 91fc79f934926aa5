/**
 * The four services as esbuild bundles (docker/bundle.mjs, the image's build step), built once per
 * drill so that a killed service starts again without tsx compiling TypeScript: under load that
 * compilation made a restart take 65–100 s (docs/crash-safety.md), far longer than the faults
 * the drill means to inject.
 *
 * The folder sits under `.test-artifacts/` in the repository (ignored by git) because the bundles
 * keep every npm package external and find them by walking up to the repository's node_modules.
 */
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { bundle } from '../../docker/bundle.mjs';
import type { ServiceName } from '@triggers/testkit';

export interface ServiceBundles {
  /** Pass as `startServiceProcesses({ bundleDir })`. */
  dir: string;
  /** How long the build took. */
  buildMs: number;
  remove(): void;
}

const SERVICES: readonly ServiceName[] = ['ingest', 'inbox', 'matcher', 'deliverer'];

/**
 * `splitting` (the default here, unlike the image's bundles) loads each backend's code and npm
 * packages only when the process opens that backend; without it every process loads all of them
 * (AWS SDK, kafkajs, knex, ioredis, ...) at start-up (docker/bundle.mjs).
 */
export async function buildServiceBundles(root: string, { splitting = true }: { splitting?: boolean } = {}): Promise<ServiceBundles> {
  const parent = path.join(root, '.test-artifacts');
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(path.join(parent, 'service-bundles-'));
  const started = Date.now();
  try {
    // No console assets: the drill never opens the console (the inbox says they are missing).
    await bundle(dir, { root, roles: [...SERVICES], assets: false, splitting });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return { dir, buildMs: Date.now() - started, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
