import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCircuitBreakers, originOf, type CircuitBreakers, type CircuitState } from './circuit-breaker.ts';
import { CircuitOpenError } from '../domain/delivery/errors.ts';

const RESET_MS = 80;
const ORIGIN = 'https://receiver.example';
/** opossum half-opens on a real timer; wait well past it. */
const afterReset = () => sleep(RESET_MS * 2);

describe('circuit breakers per origin', () => {
  let breakers: CircuitBreakers;
  let transitions: Array<[string, CircuitState]>;

  beforeEach(() => {
    transitions = [];
    breakers = createCircuitBreakers({
      minRequests: 4,
      errorPercent: 50,
      resetMs: RESET_MS,
      onStateChange: (origin, state) => transitions.push([origin, state]),
    });
  });
  afterEach(() => breakers.shutdown());

  const succeed = (origin = ORIGIN) => breakers.run(origin, async () => 'ok');
  const failOnce = (origin = ORIGIN) => breakers.run(origin, async () => Promise.reject(new Error('503'))).catch((e: unknown) => e);

  async function open(origin = ORIGIN): Promise<void> {
    for (let i = 0; i < 4; i++) await failOnce(origin);
    assert.equal(breakers.state(origin), 'open');
  }

  it('stays closed until the minimum number of requests was made', async () => {
    for (let i = 0; i < 3; i++) await failOnce();
    assert.equal(breakers.state(ORIGIN), 'closed');
    assert.equal(breakers.canRequest(ORIGIN), true);
    assert.deepEqual(transitions, []);
  });

  it('opens when at least errorPercent of the requests in the window failed', async () => {
    await succeed();
    await succeed();
    await failOnce();
    assert.equal(breakers.state(ORIGIN), 'closed');
    await failOnce(); // 2 of 4 = 50 %: "at least" the threshold
    assert.equal(breakers.state(ORIGIN), 'open');
    assert.equal(breakers.isOpen(ORIGIN), true);
    assert.deepEqual(transitions, [[ORIGIN, 'open']]);
  });

  it('stays closed below the error percentage', async () => {
    for (let i = 0; i < 3; i++) await succeed();
    await failOnce();
    await succeed();
    await failOnce(); // 2 of 6
    assert.equal(breakers.state(ORIGIN), 'closed');
  });

  it('rejects without calling fn while open, with the time left until the probe', async () => {
    await open();
    let calls = 0;
    const error = await breakers.run(ORIGIN, async () => ++calls).catch((e: unknown) => e);
    assert.ok(error instanceof CircuitOpenError);
    assert.equal(error.origin, ORIGIN);
    assert.ok(error.retryInMs > 0 && error.retryInMs <= RESET_MS, String(error.retryInMs));
    assert.equal(calls, 0);
    assert.equal(breakers.canRequest(ORIGIN), false);
    const left = breakers.retryInMs(ORIGIN);
    assert.ok(left > 0 && left <= error.retryInMs, String(left));
  });

  it('keeps other origins closed', async () => {
    await open();
    assert.equal(breakers.canRequest('https://other.example'), true);
    assert.equal(await succeed('https://other.example'), 'ok');
  });

  it('half-opens after the reset timeout and lets exactly one probe through', async () => {
    await open();
    await afterReset();
    assert.equal(breakers.state(ORIGIN), 'half-open');
    assert.equal(breakers.canRequest(ORIGIN), true);
    assert.equal(breakers.isOpen(ORIGIN), false);
    assert.equal(breakers.retryInMs(ORIGIN), 0);

    let release!: () => void;
    const probe = breakers.run(ORIGIN, () => new Promise<string>((resolve) => (release = () => resolve('probed'))));
    let secondCalled = false;
    const second = await breakers.run(ORIGIN, async () => (secondCalled = true)).catch((e: unknown) => e);
    assert.ok(second instanceof CircuitOpenError);
    assert.equal(secondCalled, false);
    assert.equal(breakers.canRequest(ORIGIN), false);

    release();
    assert.equal(await probe, 'probed');
    assert.equal(breakers.state(ORIGIN), 'closed');
    assert.deepEqual(transitions.map(([, s]) => s), ['open', 'half-open', 'closed']);
  });

  it('a half-open probe that sent nothing (it lost the attempt claim) leaves the circuit half-open, and the next request probes', async () => {
    await open();
    await afterReset();
    const none = await breakers.run(ORIGIN, async () => 'not-claimed' as const, { sentNothing: (r) => r === 'not-claimed' });
    assert.equal(none, 'not-claimed');
    assert.equal(breakers.state(ORIGIN), 'half-open', 'not closed without a real request');
    assert.equal(breakers.canRequest(ORIGIN), true, 'the probe slot is free again');
    await failOnce();
    assert.equal(breakers.state(ORIGIN), 'open', 'the real probe failed: open again');
    await afterReset();
    assert.equal(await succeed(), 'ok');
    assert.equal(breakers.state(ORIGIN), 'closed');
    assert.deepEqual(transitions.map(([, s]) => s), ['open', 'half-open', 'open', 'half-open', 'closed']);
  });

  it('starts a fresh window after a successful probe', async () => {
    await open();
    await afterReset();
    await succeed();
    await failOnce(); // the failures that opened the circuit no longer count
    assert.equal(breakers.state(ORIGIN), 'closed');
  });

  it('re-opens when the probe fails, for another reset period', async () => {
    await open();
    await afterReset();
    await failOnce();
    assert.equal(breakers.state(ORIGIN), 'open');
    assert.ok(breakers.retryInMs(ORIGIN) > RESET_MS / 2);
    await afterReset();
    assert.equal(breakers.state(ORIGIN), 'half-open');
    assert.deepEqual(transitions.map(([, s]) => s), ['open', 'half-open', 'open', 'half-open']);
  });

  it('counts results flagged by isFailure and still returns them', async () => {
    const response = { statusCode: 503 };
    for (let i = 0; i < 4; i++) {
      const result = await breakers.run(ORIGIN, async () => response, { isFailure: (r) => r.statusCode >= 500 });
      assert.equal(result, response);
    }
    assert.equal(breakers.state(ORIGIN), 'open');
  });

  it('passes errors of fn through unchanged', async () => {
    const boom = new Error('boom');
    await assert.rejects(breakers.run(ORIGIN, async () => Promise.reject(boom)), (e) => e === boom);
  });

  it('does not let a throwing onStateChange disturb the breaker', async () => {
    breakers.shutdown();
    breakers = createCircuitBreakers({
      minRequests: 1,
      errorPercent: 50,
      resetMs: RESET_MS,
      onStateChange: () => {
        throw new Error('logger down');
      },
    });
    await failOnce();
    assert.equal(breakers.state(ORIGIN), 'open');
  });
});

describe('originOf', () => {
  it('is scheme, host and port, with default ports folded', () => {
    assert.equal(originOf('https://Example.com/hooks?a=1'), 'https://example.com');
    assert.equal(originOf('https://example.com:443/x'), 'https://example.com');
    assert.equal(originOf('http://example.com:8080/x'), 'http://example.com:8080');
    assert.equal(originOf(new URL('http://[::1]:3000/')), 'http://[::1]:3000');
    assert.notEqual(originOf('http://example.com/'), originOf('https://example.com/'));
  });
});
