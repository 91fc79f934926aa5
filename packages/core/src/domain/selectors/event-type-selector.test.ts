import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { assertInvalid, matches } from './test-helpers.ts';

const eventType = (value: unknown) => ({ type: 'event_type', value });

describe('event_type selector', () => {
  describe('exact value', () => {
    it('matches an equal event_type', () => {
      assert.equal(matches(eventType('order.created'), { event_type: 'order.created' }), true);
    });

    it('does not match a different, longer or shorter event_type', () => {
      for (const other of ['order.updated', 'order.created.v2', 'order', 'Order.Created', 'order.created ']) {
        assert.equal(matches(eventType('order.created'), { event_type: other }), false, other);
      }
    });

    it('never matches a missing or non-string event_type', () => {
      for (const payload of [{}, { event_type: null }, { event_type: 1 }, { event_type: ['order.created'] }, { type: 'order.created' }]) {
        assert.equal(matches(eventType('order.created'), payload), false, JSON.stringify(payload));
      }
    });
  });

  describe('trailing ".*"', () => {
    it('matches one trailing segment', () => {
      assert.equal(matches(eventType('order.*'), { event_type: 'order.created' }), true);
    });

    it('matches several trailing segments', () => {
      assert.equal(matches(eventType('order.*'), { event_type: 'order.item.added' }), true);
    });

    it('does not match the prefix alone, the prefix with an empty segment, or another prefix', () => {
      for (const other of ['order', 'order.', 'orders.created', 'xorder.created', 'shop.order.created']) {
        assert.equal(matches(eventType('order.*'), { event_type: other }), false, other);
      }
    });

    it('works with a multi-segment prefix', () => {
      assert.equal(matches(eventType('shop.order.*'), { event_type: 'shop.order.created' }), true);
      assert.equal(matches(eventType('shop.order.*'), { event_type: 'shop.refund.created' }), false);
    });

    it('never matches a non-string event_type', () => {
      assert.equal(matches(eventType('order.*'), { event_type: { 'order.x': 1 } }), false);
    });
  });

  describe('"*" alone', () => {
    it('matches any non-empty event type', () => {
      for (const value of ['a', 'order.created', 'x.y.z']) assert.equal(matches(eventType('*'), { event_type: value }), true, value);
    });

    it('does not match an empty, missing or non-string event type', () => {
      for (const payload of [{ event_type: '' }, {}, { event_type: 5 }]) assert.equal(matches(eventType('*'), payload), false);
    });
  });

  describe('validation', () => {
    it('rejects "*" anywhere but alone or in a trailing ".*"', () => {
      assertInvalid(eventType('order.*.created'), 'value: "*" at position 6 is not allowed; use "*" alone or a trailing ".*" as in "order.*"');
      for (const value of ['*.created', 'order*', 'or*der.created', 'order.**', '**', 'order.x*']) {
        assertInvalid(eventType(value), /^value: "\*" at position \d+ is not allowed/);
      }
    });

    it('rejects ".*" without a prefix', () => {
      assertInvalid(eventType('.*'), 'value: ".*" needs a prefix, as in "order.*"');
    });

    it('rejects an empty value', () => {
      assertInvalid(eventType(''), 'value: must not be empty');
    });

    it('rejects a value over 255 characters and accepts one of exactly 255', () => {
      assert.equal(matches(eventType('a'.repeat(255)), { event_type: 'a'.repeat(255) }), true);
      assertInvalid(eventType('a'.repeat(256)), 'value: is 256 characters long; at most 255 are allowed');
    });

    it('rejects a missing or non-string value', () => {
      assertInvalid({ type: 'event_type' }, 'value: is required');
      assertInvalid(eventType(7), 'value: expected a string, got number');
      assertInvalid(eventType(null), 'value: expected a string, got null');
      assertInvalid(eventType(['a']), 'value: expected a string, got array');
    });

    it('rejects unknown keys', () => {
      assertInvalid({ type: 'event_type', value: 'a', values: ['b'] }, 'values: unknown key; an "event_type" selector has only "type" and "value"');
    });
  });
});
