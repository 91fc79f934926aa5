import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Webhook signing secrets encrypted at rest (AES-256-GCM). A stored value is
 * `enc1:<key id>:<base64url(iv ‖ ciphertext ‖ tag)>`: the key id says which key wrote it, so keys
 * can be rotated (`TRIGGERS_SECRET_KEY` encrypts; `TRIGGERS_SECRET_KEY_PREVIOUS` still decrypts).
 * The subscription's ids are the additional authenticated data: a value copied onto another row
 * does not decrypt there. A database dump without the key cannot sign a webhook.
 */

/** One AES-256 key and the id derived from it (the id reveals nothing about the key). */
export interface SecretKey {
  id: string;
  key: Buffer;
}

export const SECRET_KEY_BYTES = 32;
const PREFIX = 'enc1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[0-9a-f]{16}$/;
/** Decrypted values a cipher remembers; past this many it starts over. */
const MAX_REMEMBERED = 10_000;

/** The id stored beside every value the key encrypts: the first 64 bits of a hash of the key. */
function keyId(key: Buffer): string {
  return createHash('sha256').update('triggers secret key id\0').update(key).digest('hex').slice(0, 16);
}

/**
 * A key as written in `TRIGGERS_SECRET_KEY`: 32 bytes as 64 hex digits or as base64 / base64url
 * (`openssl rand -base64 32`). Throws a RangeError saying what is expected.
 */
export function parseSecretKey(text: string): SecretKey {
  const value = text.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(value)) key = Buffer.from(value, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(value)) key = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (!key || key.length !== SECRET_KEY_BYTES) {
    throw new RangeError('must be 32 random bytes as 64 hex digits or base64 (generate one with: openssl rand -base64 32)');
  }
  return { id: keyId(key), key };
}

/** A new random key, in the form `parseSecretKey` reads (base64). */
export function generateSecretKeyText(): string {
  return randomBytes(SECRET_KEY_BYTES).toString('base64');
}

/** A cipher from key texts as `TRIGGERS_SECRET_KEY` and `TRIGGERS_SECRET_KEY_PREVIOUS` hold them. */
export function createSecretCipher(keys: { current: string; previous?: readonly string[] }): SecretCipher {
  return new SecretCipher(parseSecretKey(keys.current), (keys.previous ?? []).map(parseSecretKey));
}

/** Thrown when a stored value cannot be decrypted: the key that wrote it is not configured, or it was tampered with. */
export class SecretDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretDecryptionError';
  }
}

/** Where a secret belongs: its additional authenticated data. */
export interface SecretOwner {
  customerId: string;
  workflowId: string;
}

export class SecretCipher {
  private readonly keys: Map<string, Buffer>;
  /** Plaintexts of values decrypted already, by owner and stored value (at most MAX_REMEMBERED). */
  private readonly decrypted = new Map<string, string>();

  /** `current` encrypts every write; `previous` keys only decrypt (values they wrote are re-encrypted at start-up). */
  constructor(
    readonly current: SecretKey,
    previous: readonly SecretKey[] = [],
  ) {
    this.keys = new Map([current, ...previous].map((k) => [k.id, k.key]));
  }

  /** The id of the key that encrypts. */
  get currentKeyId(): string {
    return this.current.id;
  }

  encrypt(plaintext: string, owner: SecretOwner): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(aad(owner));
    const body = Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${PREFIX}:${this.current.id}:${body.toString('base64url')}`;
  }

  /**
   * The secret a stored value holds. A value without the `enc1:` prefix was written before
   * encryption (a row of an older version during a rolling upgrade) and is returned as it is;
   * the next start-up encrypts it.
   */
  decrypt(stored: string, owner: SecretOwner): string {
    // The deliverer reads its subscription (and so decrypts its secret) for every delivery: a
    // value once authenticated for its owner is remembered (it can only ever decrypt to the same).
    const memoKey = `${owner.customerId}\u0000${owner.workflowId}\u0000${stored}`;
    const known = this.decrypted.get(memoKey);
    if (known !== undefined) return known;
    const plaintext = this.decryptUncached(stored, owner);
    if (this.decrypted.size >= MAX_REMEMBERED) this.decrypted.clear();
    this.decrypted.set(memoKey, plaintext);
    return plaintext;
  }

  private decryptUncached(stored: string, owner: SecretOwner): string {
    const parsed = parseStored(stored);
    if (!parsed) return stored;
    const key = this.keys.get(parsed.keyId);
    if (!key) {
      throw new SecretDecryptionError(
        `the webhook secret of subscription ${owner.workflowId} is encrypted with key id ${parsed.keyId}, which is neither ` +
          `TRIGGERS_SECRET_KEY (key id ${this.current.id}) nor in TRIGGERS_SECRET_KEY_PREVIOUS: set the key it was written with as TRIGGERS_SECRET_KEY_PREVIOUS`,
      );
    }
    const body = parsed.body;
    if (body.length < IV_BYTES + TAG_BYTES) throw new SecretDecryptionError(`the webhook secret of subscription ${owner.workflowId} is truncated`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, body.subarray(0, IV_BYTES));
      decipher.setAAD(aad(owner));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([decipher.update(body.subarray(IV_BYTES, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretDecryptionError(`the webhook secret of subscription ${owner.workflowId} failed authentication (altered, or moved from another row)`);
    }
  }

  /** Whether a stored value is already encrypted with the current key (else: re-encrypt it). */
  isCurrent(stored: string): boolean {
    return stored.startsWith(this.currentPrefix());
  }

  /** What every value encrypted with the current key starts with (for a SQL `LIKE`: hex digits and colons only). */
  currentPrefix(): string {
    return `${PREFIX}:${this.current.id}:`;
  }
}

/** The key id a stored value names; null for a value stored before encryption. */
export function storedSecretKeyId(stored: string): string | null {
  return parseStored(stored)?.keyId ?? null;
}

function parseStored(stored: string): { keyId: string; body: Buffer } | null {
  if (!stored.startsWith(`${PREFIX}:`)) return null;
  const [, id, body] = stored.split(':');
  if (id === undefined || body === undefined || !KEY_ID.test(id)) throw new SecretDecryptionError('a stored webhook secret has a malformed enc1 envelope');
  return { keyId: id, body: Buffer.from(body, 'base64url') };
}

function aad(owner: SecretOwner): Buffer {
  return Buffer.from(`triggers subscription secret\0${owner.customerId}\0${owner.workflowId}`, 'utf8');
}
