import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SecretCipher, SecretDecryptionError, createSecretCipher, generateSecretKeyText, parseSecretKey, storedSecretKeyId } from './secret-cipher.ts';

describe('secret cipher (webhook secrets at rest)', function () {
  const owner = { customerId: 'cus_1', workflowId: 'wf_1' };

  it('reads a key as 64 hex digits, base64 or base64url, and gives the same key the same id', function () {
    const bytes = randomBytes(32);
    const ids = [bytes.toString('hex'), bytes.toString('base64'), bytes.toString('base64url')].map((text) => parseSecretKey(text).id);
    assert.equal(new Set(ids).size, 1);
    assert.match(ids[0], /^[0-9a-f]{16}$/);
    assert.notEqual(parseSecretKey(randomBytes(32).toString('base64')).id, ids[0]);
  });

  it('refuses a key that is not 32 bytes, saying how to make one', function () {
    for (const bad of ['', 'short', randomBytes(16).toString('base64'), randomBytes(33).toString('base64'), 'z'.repeat(64)]) {
      assert.throws(() => parseSecretKey(bad), /32 random bytes.*openssl rand -base64 32/);
    }
  });

  it('encrypts to enc1:<key id>:..., decrypts back, and never repeats a stored value', function () {
    const cipher = createSecretCipher({ current: generateSecretKeyText() });
    const a = cipher.encrypt('whsec_abc', owner);
    const b = cipher.encrypt('whsec_abc', owner);
    assert.notEqual(a, b);
    assert.ok(a.startsWith(`enc1:${cipher.currentKeyId}:`));
    assert.ok(!a.includes('abc'));
    assert.equal(storedSecretKeyId(a), cipher.currentKeyId);
    assert.equal(cipher.decrypt(a, owner), 'whsec_abc');
    assert.ok(cipher.isCurrent(a));
  });

  it('binds a value to its subscription: another owner, a changed byte or an unknown key is refused', function () {
    const cipher = createSecretCipher({ current: generateSecretKeyText() });
    const stored = cipher.encrypt('whsec_abc', owner);
    assert.throws(() => cipher.decrypt(stored, { ...owner, workflowId: 'wf_2' }), SecretDecryptionError);
    const body = Buffer.from(stored.split(':')[2], 'base64url');
    body[body.length - 1] ^= 1;
    assert.throws(() => cipher.decrypt(`enc1:${cipher.currentKeyId}:${body.toString('base64url')}`, owner), /failed authentication/);
    const other = createSecretCipher({ current: generateSecretKeyText() });
    assert.throws(() => other.decrypt(stored, owner), /TRIGGERS_SECRET_KEY_PREVIOUS/);
  });

  it('remembers a decrypted value for its owner only: once decrypted, another owner and a changed byte are still refused', function () {
    const cipher = createSecretCipher({ current: generateSecretKeyText() });
    const stored = cipher.encrypt('whsec_abc', owner);
    for (let i = 0; i < 3; i++) assert.equal(cipher.decrypt(stored, owner), 'whsec_abc');
    assert.throws(() => cipher.decrypt(stored, { ...owner, workflowId: 'wf_2' }), SecretDecryptionError);
    assert.throws(() => cipher.decrypt(stored, { ...owner, customerId: 'cus_2' }), SecretDecryptionError);
    const body = Buffer.from(stored.split(':')[2], 'base64url');
    body[body.length - 1] ^= 1;
    assert.throws(() => cipher.decrypt(`enc1:${cipher.currentKeyId}:${body.toString('base64url')}`, owner), /failed authentication/);
    assert.equal(cipher.decrypt(stored, owner), 'whsec_abc');
  });

  it('decrypts with a previous key and encrypts with the current one', function () {
    const oldKey = generateSecretKeyText();
    const stored = createSecretCipher({ current: oldKey }).encrypt('whsec_old', owner);
    const rotated = createSecretCipher({ current: generateSecretKeyText(), previous: [oldKey] });
    assert.equal(rotated.decrypt(stored, owner), 'whsec_old');
    assert.ok(!rotated.isCurrent(stored));
    assert.ok(rotated.isCurrent(rotated.encrypt('whsec_old', owner)));
  });

  it('passes a value stored before encryption through (a row of an older version during an upgrade)', function () {
    const cipher = new SecretCipher(parseSecretKey(generateSecretKeyText()));
    assert.equal(cipher.decrypt('whsec_plain', owner), 'whsec_plain');
    assert.equal(storedSecretKeyId('whsec_plain'), null);
    assert.ok(!cipher.isCurrent('whsec_plain'));
  });
});
