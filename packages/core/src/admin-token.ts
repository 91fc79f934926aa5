import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The operator token: `TRIGGERS_ADMIN_TOKEN` when set; in embedded mode, otherwise one generated on
 * first start and kept in the data folder (mode 0600) so restarts keep it; elsewhere none (admin
 * endpoints answer 401).
 */
export function resolveAdminToken(options: { configured: string | undefined; embedded: boolean; dataDir: string }): {
  token: string | undefined;
  source: 'setting' | 'data-dir' | 'generated' | 'none';
} {
  if (options.configured) return { token: options.configured, source: 'setting' };
  if (!options.embedded) return { token: undefined, source: 'none' };
  const file = path.join(options.dataDir, 'admin-token');
  try {
    const stored = readFileSync(file, 'utf8').trim();
    if (stored.length >= 16) return { token: stored, source: 'data-dir' };
  } catch {
    // Not there yet: generate below.
  }
  mkdirSync(options.dataDir, { recursive: true });
  const token = `adm_${randomBytes(24).toString('base64url')}`;
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { token, source: 'generated' };
}
