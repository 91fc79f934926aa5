import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, ConfigError } from './config.ts';
import { generateSecretKeyText, parseSecretKey } from './secret-cipher.ts';
import { SECRET_KEY_FILE, resolveSecretCipher } from './secret-key.ts';

describe('the secret key: TRIGGERS_SECRET_KEY, or the data folder in embedded mode', function () {
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'triggers-secret-key-'));
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('embedded: generates a key on first start, mode 0600 beside the admin token, and keeps it across restarts', function () {
    const first = resolveSecretCipher({ configured: { current: undefined, previous: [] }, embedded: true, dataDir });
    assert.equal(first.source, 'generated');
    const file = path.join(dataDir, SECRET_KEY_FILE);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(parseSecretKey(fs.readFileSync(file, 'utf8')).id, first.cipher.currentKeyId);
    const second = resolveSecretCipher({ configured: { current: undefined, previous: [] }, embedded: true, dataDir });
    assert.equal(second.source, 'data-dir');
    assert.equal(second.cipher.currentKeyId, first.cipher.currentKeyId);
    assert.deepEqual(fs.readdirSync(dataDir), [SECRET_KEY_FILE], 'no draft file left behind');
  });

  it('processes starting at once on one data folder end up with one key', async function () {
    this.timeout(30_000);
    const script = `import { resolveSecretCipher } from ${JSON.stringify(path.resolve('packages/core/src/secret-key.ts'))};
      process.stdout.write(resolveSecretCipher({ configured: { current: undefined, previous: [] }, embedded: true, dataDir: process.argv[1] }).cipher.currentKeyId);`;
    const ids = await Promise.all(
      Array.from({ length: 4 }, () => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (chunk) => (out += chunk));
        return new Promise<string>((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`)))));
      }),
    );
    assert.equal(new Set(ids).size, 1, ids.join(' '));
  });

  it('uses TRIGGERS_SECRET_KEY when set (and writes nothing), and refuses to run without it outside embedded mode', function () {
    const key = generateSecretKeyText();
    const resolved = resolveSecretCipher({ configured: { current: key, previous: [] }, embedded: true, dataDir });
    assert.equal(resolved.source, 'setting');
    assert.equal(resolved.cipher.currentKeyId, parseSecretKey(key).id);
    assert.deepEqual(fs.readdirSync(dataDir), []);
    assert.throws(() => resolveSecretCipher({ configured: { current: undefined, previous: [] }, embedded: false, dataDir }), ConfigError);
  });

  it('refuses a key file that does not hold a key, naming the file', function () {
    fs.writeFileSync(path.join(dataDir, SECRET_KEY_FILE), 'not a key\n');
    assert.throws(() => resolveSecretCipher({ configured: { current: undefined, previous: [] }, embedded: true, dataDir }), /secret-key does not hold a secret key/);
  });

  describe('settings', function () {
    const distributed = { TRIGGERS_METADATA_STORE: 'postgres', TRIGGERS_POSTGRES_URL: 'postgres://localhost/db', TRIGGERS_CACHE: 'redis', TRIGGERS_REDIS_URL: 'redis://localhost' };

    it('a PostgreSQL metadata store without TRIGGERS_SECRET_KEY does not start, and the message says why and how', function () {
      assert.throws(() => loadConfig(distributed), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.variable, 'TRIGGERS_SECRET_KEY');
        assert.match(error.message, /required when TRIGGERS_METADATA_STORE=postgres.*openssl rand -base64 32/);
        return true;
      });
      const key = generateSecretKeyText();
      assert.equal(loadConfig({ ...distributed, TRIGGERS_SECRET_KEY: key }).secretKeys.current, key);
    });

    it('a malformed key is refused without printing it', function () {
      const bad = 'c2VjcmV0LWJ1dC10b28tc2hvcnQ=';
      for (const variable of ['TRIGGERS_SECRET_KEY', 'TRIGGERS_SECRET_KEY_PREVIOUS']) {
        assert.throws(() => loadConfig({ [variable]: bad }), (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.equal(error.variable, variable);
          assert.ok(!error.message.includes(bad), error.message);
          assert.match(error.message, /32 random bytes/);
          return true;
        });
      }
    });

    it('TRIGGERS_SECRET_KEY_PREVIOUS takes a comma-separated list', function () {
      const [a, b] = [generateSecretKeyText(), generateSecretKeyText()];
      assert.deepEqual(loadConfig({ TRIGGERS_SECRET_KEY_PREVIOUS: `${a}, ${b}` }).secretKeys.previous, [a, b]);
    });
  });
});
