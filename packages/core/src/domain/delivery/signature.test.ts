import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { decodeWebhookSecret, generateWebhookSecret, isWebhookSecret, signWebhook, webhookSignatureHeaders } from './signature.ts';

const nowSeconds = () => Math.floor(Date.now() / 1000);

function verify(secret: string, body: string, headers: Record<string, string>): unknown {
  return new Webhook(secret).verify(body, headers);
}

describe('signWebhook', () => {
  it('matches the published Standard Webhooks test vector', () => {
    const signature = signWebhook({
      id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      timestampSeconds: 1614265330,
      body: '{"test": 2432232314}',
      secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    });
    assert.equal(signature, 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('is verified by the standardwebhooks package', () => {
    const secret = generateWebhookSecret();
    const body = JSON.stringify([{ event_id: 'evt_1', customer_id: 'cus_1', payload: { name: 'Zoë ☕' }, timestamp: '2025-01-15T12:00:00.000Z' }]);
    const headers = webhookSignatureHeaders({ id: 'msg_1', timestampSeconds: nowSeconds(), body, secrets: [secret] });
    assert.deepEqual(verify(secret, body, headers), JSON.parse(body));
  });

  it('signs with every secret during a rotation, so either one verifies', () => {
    const current = generateWebhookSecret();
    const previous = generateWebhookSecret({ byteLength: 24 });
    const body = '[{"event_id":"evt_2"}]';
    const headers = webhookSignatureHeaders({ id: 'msg_2', timestampSeconds: nowSeconds(), body, secrets: [current, previous] });
    const parts = headers['webhook-signature'].split(' ');
    assert.equal(parts.length, 2);
    assert.ok(parts.every((p) => p.startsWith('v1,')));
    assert.doesNotThrow(() => verify(current, body, headers));
    assert.doesNotThrow(() => verify(previous, body, headers));
    assert.throws(() => verify(generateWebhookSecret(), body, headers), /No matching signature/);
  });

  it('does not verify once the body, id or timestamp changed', () => {
    const secret = generateWebhookSecret();
    const body = '[{"event_id":"evt_3"}]';
    const ts = nowSeconds();
    const headers = webhookSignatureHeaders({ id: 'msg_3', timestampSeconds: ts, body, secrets: [secret] });
    assert.throws(() => verify(secret, body.replace('3', '4'), headers));
    assert.throws(() => verify(secret, body, { ...headers, 'webhook-id': 'msg_4' }));
    assert.throws(() => verify(secret, body, { ...headers, 'webhook-timestamp': String(ts + 1) }));
  });

  it('signs the same bytes whether the body is a string or a buffer', () => {
    const secret = generateWebhookSecret();
    const input = { id: 'msg_5', timestampSeconds: 1_700_000_000, secrets: [secret] };
    assert.equal(signWebhook({ ...input, body: '{"a":"é"}' }), signWebhook({ ...input, body: Buffer.from('{"a":"é"}') }));
  });

  it('writes one signature per distinct secret', () => {
    const secret = generateWebhookSecret();
    assert.equal(signWebhook({ id: 'm', timestampSeconds: 1, body: '', secrets: [secret, secret] }).split(' ').length, 1);
  });

  it('refuses to sign without a secret, with a malformed secret or with a bad timestamp', () => {
    const secret = generateWebhookSecret();
    assert.throws(() => signWebhook({ id: 'm', timestampSeconds: 1, body: '', secrets: [] }), TypeError);
    assert.throws(() => signWebhook({ id: 'm', timestampSeconds: 1, body: '', secrets: ['whsec_not base64!'] }), TypeError);
    assert.throws(() => signWebhook({ id: 'm', timestampSeconds: 1.5, body: '', secrets: [secret] }), RangeError);
  });
});

describe('generateWebhookSecret', () => {
  it('is whsec_ followed by base64 of 32 random bytes by default', () => {
    const secret = generateWebhookSecret();
    assert.match(secret, /^whsec_[A-Za-z0-9+/]+=*$/);
    assert.equal(decodeWebhookSecret(secret).length, 32);
    assert.ok(isWebhookSecret(secret));
    assert.notEqual(generateWebhookSecret(), secret);
  });

  it('takes 24 to 32 bytes from the injected source', () => {
    const secret = generateWebhookSecret({ byteLength: 24, randomBytes: (n) => new Uint8Array(n).fill(7) });
    assert.equal(secret, `whsec_${Buffer.alloc(24, 7).toString('base64')}`);
    assert.throws(() => generateWebhookSecret({ byteLength: 16 }), RangeError);
    assert.throws(() => generateWebhookSecret({ byteLength: 33 }), RangeError);
  });

  it('is accepted by the standardwebhooks package', () => {
    assert.doesNotThrow(() => new Webhook(generateWebhookSecret()));
  });
});

describe('isWebhookSecret', () => {
  it('rejects values without the prefix, not base64 or too short', () => {
    assert.equal(isWebhookSecret(Buffer.alloc(32).toString('base64')), false);
    assert.equal(isWebhookSecret('whsec_%%%'), false);
    assert.equal(isWebhookSecret(`whsec_${Buffer.alloc(8).toString('base64')}`), false);
  });
});
