import type { IHeaders, KafkaMessage } from 'kafkajs';
import type { Topic } from '../../ports/queue.ts';

export const TOPICS: readonly Topic[] = ['events', 'deliveries'];

/**
 * Delay tiers: a delayed message waits in the tier topic of the largest tier not longer than its
 * remaining delay, so every message of one tier waits about the same time and the head of a tier
 * partition is always the first to come due (sub-second delays wait at most 1 s behind another).
 */
export const DELAY_TIERS = [
  { name: '1s', ms: 1000 },
  { name: '10s', ms: 10_000 },
  { name: '1m', ms: 60_000 },
  { name: '10m', ms: 600_000 },
  { name: '1h', ms: 3_600_000 },
] as const;

export type DelayTier = (typeof DELAY_TIERS)[number];

export interface TopicNames {
  main: string;
  deadLetter: string;
  /** One per entry of DELAY_TIERS, same order. */
  delay: string[];
  group: string;
}

/** `<prefix>-events`, `<prefix>-events-dlq`, `<prefix>-events-delay-10s`, group `<prefix>-events-consumers`. */
export function topicNames(prefix: string, topic: Topic): TopicNames {
  const main = `${prefix}-${topic}`;
  return {
    main,
    deadLetter: `${main}-dlq`,
    delay: DELAY_TIERS.map((tier) => `${main}-delay-${tier.name}`),
    group: `${main}-consumers`,
  };
}

export function delayGroup(prefix: string): string {
  return `${prefix}-delay-consumers`;
}

export function tierFor(remainingMs: number): DelayTier {
  let chosen: DelayTier = DELAY_TIERS[0];
  for (const tier of DELAY_TIERS) if (tier.ms <= remainingMs) chosen = tier;
  return chosen;
}

/** When a message appended to a tier at `appendedAt` leaves it: at its due time or after one tier step. */
export function leavesTierAt(tier: DelayTier, appendedAt: number, dueAt: number): number {
  return Math.min(dueAt, appendedAt + tier.ms);
}

const HEADER = {
  id: 'triggers-id',
  enqueuedAt: 'triggers-enqueued-at',
  receives: 'triggers-receives',
  dueAt: 'triggers-due-at',
  deadLetteredAt: 'triggers-dead-lettered-at',
} as const;

/** What travels with a message through main, delay and dead-letter topics. */
export interface Envelope {
  id: string;
  key: string | null;
  /** The JSON body as sent. */
  value: string;
  enqueuedAt: number;
  /** Receives before this copy was written (0 on a first send; carried over by nack and dead-lettering). */
  receives: number;
  /** Set on copies in a delay topic. */
  dueAt?: number;
  /** Set on copies in a dead-letter topic. */
  deadLetteredAt?: number;
}

export function encodeHeaders(envelope: Envelope): IHeaders {
  const headers: IHeaders = {
    [HEADER.id]: envelope.id,
    [HEADER.enqueuedAt]: String(envelope.enqueuedAt),
    [HEADER.receives]: String(envelope.receives),
  };
  if (envelope.dueAt !== undefined) headers[HEADER.dueAt] = String(envelope.dueAt);
  if (envelope.deadLetteredAt !== undefined) headers[HEADER.deadLetteredAt] = String(envelope.deadLetteredAt);
  return headers;
}

function header(headers: IHeaders | undefined, name: string): string | undefined {
  const raw = headers?.[name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value === undefined ? undefined : value.toString();
}

function numberHeader(headers: IHeaders | undefined, name: string): number | undefined {
  const text = header(headers, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * Reads a consumed message. A message written by another producer (no headers) gets its position
 * as id and its Kafka timestamp as enqueue time.
 */
export function decodeMessage(message: KafkaMessage, topic: string, partition: number): Envelope {
  const headers = message.headers;
  const envelope: Envelope = {
    id: header(headers, HEADER.id) ?? `${topic}/${partition}/${message.offset}`,
    key: message.key === null ? null : message.key.toString(),
    value: message.value === null ? 'null' : message.value.toString(),
    enqueuedAt: numberHeader(headers, HEADER.enqueuedAt) ?? Number(message.timestamp),
    receives: Math.max(0, numberHeader(headers, HEADER.receives) ?? 0),
  };
  const dueAt = numberHeader(headers, HEADER.dueAt);
  if (dueAt !== undefined) envelope.dueAt = dueAt;
  const deadLetteredAt = numberHeader(headers, HEADER.deadLetteredAt);
  if (deadLetteredAt !== undefined) envelope.deadLetteredAt = deadLetteredAt;
  return envelope;
}

/** A body that is not JSON (a foreign producer) is handed over as its text. */
export function parseBody(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
