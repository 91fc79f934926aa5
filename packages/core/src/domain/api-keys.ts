import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** `sk_live_` or `sk_test_` followed by 43 URL-safe characters (32 CSPRNG bytes). */
export const API_KEY_PATTERN = /^sk_(live|test)_[A-Za-z0-9_-]{32,128}$/;

export function generateApiKey(isTest: boolean): string {
  return `${isTest ? 'sk_test_' : 'sk_live_'}${randomBytes(32).toString('base64url')}`;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** What may be shown to identify a key: its kind and first four random characters. */
export function apiKeyPrefix(key: string): string {
  return key.slice(0, 12);
}

export function hashesEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'hex');
  const bb = Buffer.from(b, 'hex');
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
