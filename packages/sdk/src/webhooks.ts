import { WebhookVerificationError } from './errors.ts';

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com), as the deliverer sends them:
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">`,
 * keyed with the base64-decoded part of the `whsec_` secret. WebCrypto only, so this runs in
 * Node ≥ 20, Deno, Bun, workers and browsers alike.
 */

export type HeaderBag = Headers | Record<string, string | string[] | undefined>;

export interface VerifyOptions {
  /** How far the `webhook-timestamp` may be from now (default 300 s, as Standard Webhooks advises). */
  toleranceSeconds?: number;
  /** "Now" in epoch seconds (tests, replays of saved requests). */
  nowSeconds?: number;
}

/**
 * Checks a received webhook against one secret (or several, during a rotation) and returns its
 * parsed body: the array of events. Throws `WebhookVerificationError` when a header is missing,
 * the timestamp is outside the tolerance, or no signature matches. Pass the body exactly as
 * received (a string or the raw bytes), never a re-serialised object.
 */
export async function verifyWebhook(body: string | Uint8Array, headers: HeaderBag, secret: string | string[], options: VerifyOptions = {}): Promise<unknown> {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) throw new WebhookVerificationError('Missing webhook-id, webhook-timestamp or webhook-signature header.');
  if (!/^\d+$/.test(timestamp)) throw new WebhookVerificationError('webhook-timestamp is not a whole number of seconds.');
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const tolerance = options.toleranceSeconds ?? 300;
  if (Math.abs(now - Number(timestamp)) > tolerance) throw new WebhookVerificationError(`webhook-timestamp is more than ${tolerance} s from now.`);

  const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
  const offered = signatures
    .split(' ')
    .map((part) => part.split(','))
    .filter(([version, value]) => version === 'v1' && value)
    .map(([, value]) => value);
  for (const candidate of Array.isArray(secret) ? secret : [secret]) {
    const expected = await signPayload(candidate, id, Number(timestamp), text);
    if (offered.some((value) => constantTimeEqual(value, expected))) {
      try {
        return JSON.parse(text);
      } catch {
        throw new WebhookVerificationError('The signed body is not JSON.');
      }
    }
  }
  throw new WebhookVerificationError('No signature matches the secret.');
}

/** The `webhook-signature` header value for a body: `v1,<base64>` (what the deliverer sends). */
export async function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): Promise<string> {
  return `v1,${await signPayload(secret, id, timestampSeconds, body)}`;
}

async function signPayload(secret: string, id: string, timestampSeconds: number, body: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', secretBytes(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const signature = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${id}.${timestampSeconds}.${body}`));
  return toBase64(new Uint8Array(signature));
}

function secretBytes(secret: string): Uint8Array<ArrayBuffer> {
  const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  try {
    return Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
  } catch {
    throw new WebhookVerificationError('The secret is not whsec_<base64>.');
  }
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

function header(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value.join(' ') : value;
}
