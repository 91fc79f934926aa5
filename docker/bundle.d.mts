// Types of docker/bundle.mjs (a plain script, so the build stage runs it without a TypeScript loader).
export const ROOT: string;
export const ROLES: Record<'ingest' | 'matcher' | 'deliverer' | 'inbox' | 'controller' | 'all', string>;
export const EXTRA_ENTRIES: string[];
export const ASSETS: { from: string; required: string }[];
export function bundlePath(entry: string): string;
export function productionPackages(root?: string): Set<string>;
export function bundle(outDir?: string, options?: { root?: string; roles?: string[]; assets?: boolean; splitting?: boolean }): Promise<{ outDir: string; bundles: string[]; packages: string[] }>;
