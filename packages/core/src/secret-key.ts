import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError } from './config.ts';
import { SecretCipher, generateSecretKeyText, parseSecretKey } from './secret-cipher.ts';

/** The key file in the data folder (embedded mode), beside `admin-token`. */
export const SECRET_KEY_FILE = 'secret-key';

/**
 * The cipher for webhook signing secrets: `TRIGGERS_SECRET_KEY` when set; in embedded mode,
 * otherwise the key in `<dataDir>/secret-key` (mode 0600), generated on first start; elsewhere none
 * (refused: processes sharing a database must share the key). `TRIGGERS_SECRET_KEY_PREVIOUS` keys
 * only decrypt.
 */
export function resolveSecretCipher(options: {
  configured: { current: string | undefined; previous: readonly string[] };
  embedded: boolean;
  dataDir: string;
}): { cipher: SecretCipher; source: 'setting' | 'data-dir' | 'generated' } {
  const previous = options.configured.previous.map(parseSecretKey);
  if (options.configured.current) return { cipher: new SecretCipher(parseSecretKey(options.configured.current), previous), source: 'setting' };
  if (!options.embedded) {
    throw new ConfigError('TRIGGERS_SECRET_KEY', 'is required outside embedded mode: it encrypts webhook signing secrets at rest and every process must share it');
  }
  const file = path.join(options.dataDir, SECRET_KEY_FILE);
  const stored = readKeyFile(file);
  if (stored !== undefined) return { cipher: new SecretCipher(stored, previous), source: 'data-dir' };
  fs.mkdirSync(options.dataDir, { recursive: true });
  // Written aside, then linked into place: a process starting at the same moment on the same folder
  // either wins the link or reads the winner's key, never a half-written file or a second key.
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    const fd = fs.openSync(draft, 'wx', 0o600);
    try {
      fs.writeSync(fd, `${generateSecretKeyText()}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.linkSync(draft, file);
    const dir = fs.openSync(options.dataDir, 'r');
    try {
      fs.fsyncSync(dir);
    } finally {
      fs.closeSync(dir);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    fs.rmSync(draft, { force: true });
  }
  const key = readKeyFile(file);
  if (key === undefined) throw new Error(`${file} could not be read back after writing it`);
  return { cipher: new SecretCipher(key, previous), source: 'generated' };
}

function readKeyFile(file: string): ReturnType<typeof parseSecretKey> | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return parseSecretKey(text);
  } catch (error) {
    throw new Error(`${file} does not hold a secret key: it ${(error as Error).message}`);
  }
}
