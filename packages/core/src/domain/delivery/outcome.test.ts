import assert from 'node:assert/strict';
import { DependencyError } from '../../errors.ts';
import {
  CircuitOpenError,
  InvalidRedirectError,
  InvalidWebhookUrlError,
  SsrfBlockedError,
  TooManyRedirectsError,
  WebhookTimeoutError,
} from './errors.ts';
import { DELIVERY_OUTCOMES, classifyError, classifyResponse, countsAgainstOrigin, isRedirect, type DeliveryOutcome } from './outcome.ts';

const withCode = (code: string) => Object.assign(new Error(code), { code });

describe('classifyResponse', () => {
  const table: Array<[number, DeliveryOutcome]> = [
    [200, 'succeeded'],
    [201, 'succeeded'],
    [204, 'succeeded'],
    [299, 'succeeded'],
    [410, 'disable'],
    [400, 'fail'],
    [401, 'fail'],
    [403, 'fail'],
    [404, 'fail'],
    [413, 'fail'],
    [422, 'fail'],
    [408, 'retry'],
    [429, 'retry'],
    [500, 'retry'],
    [502, 'retry'],
    [503, 'retry'],
    [504, 'retry'],
    [599, 'retry'],
    [301, 'fail'],
    [304, 'fail'],
    [101, 'fail'],
  ];
  for (const [status, outcome] of table) {
    it(`treats ${status} as ${outcome}`, () => assert.equal(classifyResponse(status), outcome));
  }
});

describe('isRedirect', () => {
  it('follows 301, 302, 303, 307 and 308 only', () => {
    assert.deepEqual(
      [300, 301, 302, 303, 304, 305, 307, 308, 200].filter(isRedirect),
      [301, 302, 303, 307, 308],
    );
  });
});

describe('classifyError', () => {
  it('retries timeouts, connection errors and DNS failures', () => {
    for (const error of [
      new WebhookTimeoutError(30_000),
      withCode('ECONNREFUSED'),
      withCode('ECONNRESET'),
      withCode('ETIMEDOUT'),
      withCode('EHOSTUNREACH'),
      withCode('ENOTFOUND'),
      withCode('EAI_AGAIN'),
      withCode('UND_ERR_CONNECT_TIMEOUT'),
      withCode('UND_ERR_HEADERS_TIMEOUT'),
      withCode('UND_ERR_BODY_TIMEOUT'),
      withCode('UND_ERR_SOCKET'),
      new DOMException('The operation timed out', 'TimeoutError'),
      new Error('fetch failed', { cause: withCode('ECONNREFUSED') }),
    ]) {
      assert.equal(classifyError(error), 'retry', String(error));
    }
  });

  it('fails without retry on SSRF refusals and redirect trouble', () => {
    assert.equal(classifyError(new SsrfBlockedError('internal.example', '10.0.0.1', 'private')), 'fail');
    assert.equal(classifyError(new TooManyRedirectsError(5)), 'fail');
    assert.equal(classifyError(new InvalidRedirectError('ftp://x', 'must use http or https')), 'fail');
    assert.equal(classifyError(new InvalidWebhookUrlError('must use http or https')), 'fail');
  });

  it('follows an error that states whether it is retryable', () => {
    assert.equal(classifyError(new DependencyError('queue', 'down')), 'retry');
    assert.equal(classifyError(new DependencyError('queue', 'bad message', { retryable: false })), 'fail');
    assert.equal(classifyError(new Error('wrapped', { cause: new SsrfBlockedError('h', '10.0.0.1', 'private') })), 'fail');
    assert.equal(classifyError(new CircuitOpenError('https://example.com', 1000)), 'retry');
  });

  it('retries what it does not recognise', () => {
    assert.equal(classifyError(new Error('something odd')), 'retry');
    assert.equal(classifyError('a string'), 'retry');
    assert.equal(classifyError(undefined), 'retry');
  });
});

describe('countsAgainstOrigin', () => {
  it('counts only retryable outcomes as failures of the origin', () => {
    assert.deepEqual(DELIVERY_OUTCOMES.filter(countsAgainstOrigin), ['retry']);
  });
});
