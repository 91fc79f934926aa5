import { createHmac, randomBytes as cryptoRandomBytes } from 'node:crypto';

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com/), verifiable with the
 * `standardwebhooks` npm package: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`,
 * keyed with the base64-decoded part of a `whsec_` secret.
 */

export const WEBHOOK_SECRET_PREFIX = 'whsec_';
export const SIGNATURE_VERSION = 'v1';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The HMAC key of a secret. Accepts the secret with or without its `whsec_` prefix, as `standardwebhooks` does. */
export function decodeWebhookSecret(secret: string): Buffer {
  const encoded = secret.startsWith(WEBHOOK_SECRET_PREFIX) ? secret.slice(WEBHOOK_SECRET_PREFIX.length) : secret;
  if (encoded.length === 0 || !BASE64.test(encoded)) throw new TypeError('A webhook secret must be whsec_ followed by base64');
  return Buffer.from(encoded, 'base64');
}

export function isWebhookSecret(value: string): boolean {
  if (!value.startsWith(WEBHOOK_SECRET_PREFIX)) return false;
  try {
    return decodeWebhookSecret(value).length >= 24;
  } catch {
    return false;
  }
}

export interface SignWebhookInput {
  /** `webhook-id`: stable across the retries of one delivery. */
  id: string;
  /** `webhook-timestamp`: unix seconds of this attempt. */
  timestampSeconds: number;
  /** The exact bytes sent as the request body. */
  body: string | Uint8Array;
  /** Every secret in force: the current one and, during a rotation, the previous one. */
  secrets: readonly string[];
}

/**
 * The `webhook-signature` header value: one `v1,<base64>` per distinct secret, space-separated,
 * so receivers verify with either secret while a rotation is in progress.
 */
export function signWebhook(input: SignWebhookInput): string {
  const { id, timestampSeconds, body, secrets } = input;
  if (secrets.length === 0) throw new TypeError('At least one secret is needed to sign a webhook');
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) throw new RangeError('timestampSeconds must be whole unix seconds');
  if (id.length === 0) throw new TypeError('A webhook id is needed to sign a webhook');

  return [...new Set(secrets)]
    .map((secret) => {
      const hmac = createHmac('sha256', decodeWebhookSecret(secret));
      hmac.update(`${id}.${timestampSeconds}.`);
      hmac.update(body);
      return `${SIGNATURE_VERSION},${hmac.digest('base64')}`;
    })
    .join(' ');
}

/** The three Standard Webhooks headers of one attempt. */
export function webhookSignatureHeaders(input: SignWebhookInput): {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
} {
  return {
    'webhook-id': input.id,
    'webhook-timestamp': String(input.timestampSeconds),
    'webhook-signature': signWebhook(input),
  };
}

export interface GenerateSecretOptions {
  /** 24 to 32; default 32. */
  byteLength?: number;
  /** Injected for tests; defaults to `crypto.randomBytes`. */
  randomBytes?: (size: number) => Uint8Array;
}

/** A new signing secret: `whsec_` + base64 of 24–32 random bytes (32 by default). */
export function generateWebhookSecret(options: GenerateSecretOptions = {}): string {
  const { byteLength = 32, randomBytes = cryptoRandomBytes } = options;
  if (!Number.isInteger(byteLength) || byteLength < 24 || byteLength > 32) throw new RangeError('byteLength must be 24 to 32');
  const bytes = randomBytes(byteLength);
  if (bytes.length !== byteLength) throw new RangeError('randomBytes returned the wrong number of bytes');
  return WEBHOOK_SECRET_PREFIX + Buffer.from(bytes).toString('base64');
}
