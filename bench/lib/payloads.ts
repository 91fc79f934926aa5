/** Small, realistic request bodies, built once so the load generator spends its CPU on HTTP. */

const EVENT_TYPES = ['order.created', 'order.paid', 'invoice.sent', 'ticket.escalated'];
const TIERS = ['free', 'pro', 'gold', 'enterprise'];

/** One event payload: ~200 bytes of JSON as `{"payload": ...}`. */
export function eventPayload(n: number): Record<string, unknown> {
  return {
    event_type: EVENT_TYPES[n % EVENT_TYPES.length],
    order_id: `ord_${String(100000 + n).padStart(8, '0')}`,
    amount: Math.round(((n * 7919) % 100000) / 10) / 100 + 1,
    currency: 'USD',
    customer: { id: `cus_${(n * 31) % 5000}`, tier: TIERS[n % TIERS.length], email: `buyer${n % 5000}@example.test` },
    items: (n % 5) + 1,
    source: 'bench',
  };
}

/** `count` different single-event bodies, `{"payload": {...}}`. */
export function singleEventBodies(count: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => Buffer.from(JSON.stringify({ payload: eventPayload(i) })));
}

/** `variants` different batch bodies of `size` events each, `{"events": [{"payload": {...}}, ...]}`. */
export function batchBodies(size: number, variants: number, offset = 0): Buffer[] {
  return Array.from({ length: variants }, (_, v) => batchBody(size, offset + v * size));
}

export function batchBody(size: number, first: number): Buffer {
  const events = Array.from({ length: size }, (_, i) => ({ payload: eventPayload(first + i) }));
  return Buffer.from(JSON.stringify({ events }));
}

export const FILTER_EVENT_TYPE = EVENT_TYPES[0];

/** The event type of the delivery scenarios' events; their subscriptions select `bench.*`. */
export const DELIVERY_EVENT_TYPE = 'bench.delivery';
export const DELIVERY_SELECTOR = { type: 'event_type', value: 'bench.*' } as const;

/** `{"payload": {...}}` like `singleEventBodies`, with `event_type` = `bench.delivery`. */
export function deliveryEventBodies(count: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => Buffer.from(JSON.stringify({ payload: { ...eventPayload(i), event_type: DELIVERY_EVENT_TYPE } })));
}

/** A batch body of `size` `bench.delivery` events. */
export function deliveryBatchBody(size: number, first: number): Buffer {
  const events = Array.from({ length: size }, (_, i) => ({ payload: { ...eventPayload(first + i), event_type: DELIVERY_EVENT_TYPE } }));
  return Buffer.from(JSON.stringify({ events }));
}

/**
 * What the deliverer POSTs for one event (API.md "Webhook delivery": a one-element JSON array),
 * split around the event id so the bare client can send a different id each time cheaply.
 */
export function webhookBodyParts(n: number): [string, string] {
  const rest = {
    customer_id: '0190f5c8-0000-7000-8000-00000000bench',
    payload: { ...eventPayload(n), event_type: DELIVERY_EVENT_TYPE },
    timestamp: '2026-11-26T17:00:00.000Z',
  };
  return ['[{"event_id":"', `",${JSON.stringify(rest).slice(1)}]`];
}
