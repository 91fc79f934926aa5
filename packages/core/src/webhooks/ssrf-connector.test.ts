import assert from 'node:assert/strict';
import type { buildConnector } from 'undici';
import { SsrfBlockedError } from '../domain/delivery/errors.ts';
import { createSsrfSafeConnector, resolveAllowedAddresses, type LookupFunction } from './ssrf-connector.ts';

const fixedLookup =
  (answers: Record<string, string[]>): LookupFunction =>
  async (hostname) =>
    (answers[hostname] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

function fakeConnect(outcomes: Array<'ok' | 'refused'>) {
  const opened: buildConnector.Options[] = [];
  const connect: buildConnector.connector = (o, callback) => {
    const outcome = outcomes[opened.length] ?? 'refused';
    opened.push(o);
    if (outcome === 'ok') callback(null, { fake: true } as never);
    else callback(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), null);
  };
  return { connect, opened };
}

function run(connector: buildConnector.connector, options: Partial<buildConnector.Options>): Promise<Error | null> {
  return new Promise((resolve) =>
    connector({ hostname: 'x', protocol: 'http:', port: '80', ...options } as buildConnector.Options, (...result) => resolve(result[0])),
  );
}

describe('SSRF-safe connector', () => {
  it('dials the address it checked and keeps the host name for TLS', async () => {
    const { connect, opened } = fakeConnect(['ok']);
    const connector = createSsrfSafeConnector({ allow: { kind: 'loopback' }, lookup: fixedLookup({ 'receiver.test': ['127.0.0.1'] }), connect });
    const error = await run(connector, { hostname: 'receiver.test', host: 'receiver.test:8443', protocol: 'https:', port: '8443' });
    assert.equal(error, null);
    assert.equal(opened.length, 1);
    assert.equal(opened[0].hostname, '127.0.0.1');
    assert.equal(opened[0].servername, 'receiver.test');
    assert.equal(opened[0].host, 'receiver.test:8443');
    assert.equal(opened[0].port, '8443');
  });

  it('sends no SNI name for an IP literal and dials IPv4-mapped IPv6 as IPv4', async () => {
    const { connect, opened } = fakeConnect(['ok']);
    const connector = createSsrfSafeConnector({ allow: { kind: 'loopback' }, lookup: fixedLookup({}), connect });
    assert.equal(await run(connector, { hostname: '::ffff:7f00:1', host: '[::ffff:7f00:1]:443', protocol: 'https:', port: '443' }), null);
    assert.equal(opened[0].hostname, '127.0.0.1');
    assert.ok(!opened[0].servername);
  });

  it('refuses before dialling when any resolved address is forbidden', async () => {
    const { connect, opened } = fakeConnect(['ok']);
    const connector = createSsrfSafeConnector({ allow: { kind: 'loopback' }, lookup: fixedLookup({ 'mixed.test': ['127.0.0.1', '10.0.0.1'] }), connect });
    const error = await run(connector, { hostname: 'mixed.test' });
    assert.ok(error instanceof SsrfBlockedError);
    assert.equal(error.address, '10.0.0.1');
    assert.equal(error.host, 'mixed.test');
    assert.equal(opened.length, 0);
  });

  it('tries the next checked address when one refuses the connection', async () => {
    const { connect, opened } = fakeConnect(['refused', 'ok']);
    const connector = createSsrfSafeConnector({ allow: { kind: 'loopback' }, lookup: fixedLookup({ 'dual.test': ['::1', '127.0.0.1'] }), connect });
    assert.equal(await run(connector, { hostname: 'dual.test' }), null);
    assert.deepEqual(opened.map((o) => o.hostname), ['::1', '127.0.0.1']);
  });

  it('reports the last connection error when no address answers', async () => {
    const { connect } = fakeConnect(['refused', 'refused']);
    const connector = createSsrfSafeConnector({ allow: { kind: 'loopback' }, lookup: fixedLookup({ 'dual.test': ['::1', '127.0.0.1'] }), connect });
    const error = await run(connector, { hostname: 'dual.test' });
    assert.equal((error as { code?: string } | null)?.code, 'ECONNREFUSED');
  });

  it('reports a name without addresses as not found, and lookup failures as they are', async () => {
    const { connect } = fakeConnect([]);
    const empty = await run(createSsrfSafeConnector({ allow: { kind: 'none' }, lookup: fixedLookup({}), connect }), { hostname: 'nowhere.test' });
    assert.equal((empty as { code?: string } | null)?.code, 'ENOTFOUND');
    const failing: LookupFunction = async () => Promise.reject(Object.assign(new Error('queryA EAI_AGAIN'), { code: 'EAI_AGAIN' }));
    const again = await run(createSsrfSafeConnector({ allow: { kind: 'none' }, lookup: failing, connect }), { hostname: 'flaky.test' });
    assert.equal((again as { code?: string } | null)?.code, 'EAI_AGAIN');
  });
});

describe('resolveAllowedAddresses', () => {
  it('checks literals without a lookup and removes duplicates', async () => {
    const lookup: LookupFunction = async () => assert.fail('no lookup for a literal');
    assert.deepEqual(await resolveAllowedAddresses('127.0.0.1', { kind: 'loopback' }, lookup), ['127.0.0.1']);
    const dup = fixedLookup({ 'twice.test': ['127.0.0.1', '::ffff:127.0.0.1', '::1'] });
    assert.deepEqual(await resolveAllowedAddresses('twice.test', { kind: 'loopback' }, dup), ['127.0.0.1', '::1']);
  });

  it('refuses a metadata address whatever the policy', async () => {
    const lookup = fixedLookup({ 'metadata.test': ['169.254.169.254'] });
    await assert.rejects(resolveAllowedAddresses('metadata.test', { kind: 'cidrs', cidrs: ['0.0.0.0/0'] }, lookup), SsrfBlockedError);
  });
});
