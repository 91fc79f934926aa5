import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from './exit-codes.ts';

/**
 * Where the CLI sends its requests. The first of: the flags, the environment (`TRIGGERS_URL`,
 * `TRIGGERS_API_KEY`), the chosen profile of the profile file, then `http://localhost:8080`.
 *
 * The CLI is a client, not a service: the services' rule that only packages/core/src/config.ts
 * reads `process.env` does not apply here, and these variables are read right here.
 */
export interface ConnectionFlags {
  url?: string;
  apiKey?: string;
  profile?: string;
}

export interface Connection {
  url: string;
  apiKey: string | undefined;
  /** Where each value came from, for error messages. */
  source: string;
}

export const DEFAULT_URL = 'http://localhost:8080';

/** `$TRIGGERS_CONFIG`, else `$XDG_CONFIG_HOME/triggers/config.json`, else `~/.config/triggers/config.json`. */
export function profileFilePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TRIGGERS_CONFIG) return env.TRIGGERS_CONFIG;
  const base = env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'triggers', 'config.json');
}

interface ProfileFile {
  default_profile?: string;
  profiles?: Record<string, { url?: string; api_key?: string }>;
}

export function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Connection {
  const file = profileFilePath(env);
  const profileName = flags.profile || env.TRIGGERS_PROFILE || undefined;
  const profiles = readProfiles(file, profileName !== undefined);
  const name = profileName ?? profiles?.default_profile ?? 'default';
  const profile = profiles?.profiles?.[name];
  if (profileName !== undefined && !profile) throw new UsageError(`No profile "${profileName}" in ${file}.`);
  // An empty variable counts as unset (`TRIGGERS_URL= triggers ...`).
  const url = flags.url || env.TRIGGERS_URL || profile?.url || DEFAULT_URL;
  const apiKey = flags.apiKey || env.TRIGGERS_API_KEY || profile?.api_key;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new UsageError(`The API URL "${url}" is not an http(s) URL.`);
  }
  return { url, apiKey, source: profile ? `profile "${name}" in ${file}` : 'flags and environment' };
}

function readProfiles(file: string, required: boolean): ProfileFile | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    if (required) throw new UsageError(`Cannot read the profile file ${file}.`);
    return undefined;
  }
  try {
    return JSON.parse(text) as ProfileFile;
  } catch {
    throw new UsageError(`The profile file ${file} is not JSON.`);
  }
}

/** The API key, or a usage error that says how to give one. */
export function requireApiKey(connection: Connection): string {
  if (!connection.apiKey) throw new UsageError('No API key: pass --api-key, set TRIGGERS_API_KEY, or add api_key to a profile (see `triggers --help`).');
  return connection.apiKey;
}
