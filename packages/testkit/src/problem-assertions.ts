import assert from 'node:assert/strict';
import type { TestResponse } from '@triggers/core/testing';

/** The members every problem document has; a route may add its own (`errors`, ...). */
const PROBLEM_MEMBERS = ['code', 'detail', 'status', 'title', 'type'];

/**
 * An RFC 9457 problem with exactly the documented members (plus the `extra` ones, with their
 * values), an X-Request-Id, and nothing internal in it.
 */
export function assertProblem(response: TestResponse, status: number, code: string, extra: Record<string, unknown> = {}): void {
  assert.equal(response.status, status, response.text);
  assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json(;|$)/);
  assert.deepEqual(Object.keys(response.body ?? {}).sort(), [...PROBLEM_MEMBERS, ...Object.keys(extra)].sort(), response.text);
  assert.equal(response.body.status, status);
  assert.equal(response.body.code, code);
  assert.equal(response.body.type, `https://triggers.dev/problems/${code.replaceAll('_', '-')}`);
  assert.equal(typeof response.body.title, 'string');
  assert.ok(response.body.title.length > 0);
  assert.equal(typeof response.body.detail, 'string');
  assert.ok(response.body.detail.length > 0);
  for (const [member, value] of Object.entries(extra)) assert.deepEqual(response.body[member], value, member);
  assert.ok(response.headers.get('x-request-id'), 'X-Request-Id');
  assertNothingInternal(response.text);
}

/** No stack frame, SQL, engine name or filesystem path ever reaches a client; nor any of `secrets`. */
export function assertNothingInternal(text: string, ...secrets: string[]): void {
  const leaks: [string, RegExp][] = [
    ['a stack frame', /\bat [^\s"]+ \(|\bat [^\s"]*:\d+:\d+/],
    ['an Error class name', /\b[A-Z][A-Za-z]*Error\b/],
    ['SQL', /\b(SELECT|INSERT|UPDATE|DELETE)\b[\s\S]*\b(FROM|INTO|SET|WHERE)\b/i],
    ['the database engine', /sqlite|SQLITE_/i],
    ['a filesystem path', /(^|[\s"'(])\/(tmp|work|home|root|usr|var|app)\/|node_modules|\.db\b|\.ts\b/],
  ];
  for (const [what, pattern] of leaks) assert.doesNotMatch(text, pattern, `the response shows ${what}: ${text}`);
  for (const secret of secrets) assert.equal(text.includes(secret), false, 'the response repeats a secret');
}
