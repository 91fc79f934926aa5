import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { z } from 'zod';
import { signWebhook } from '@triggers/core/domain';
import type { sinkReceiptSchema } from './schemas.ts';

/**
 * The demo's own webhook receiver (`POST /demo/webhook-sink`): the demo customer's default
 * subscription points here, so a first event composed in the console ends `delivered` without any
 * setup. It verifies the Standard Webhooks signature like a customer's receiver would and keeps the
 * latest receipts in memory for the console.
 */

/** Kept in the demo store under `webhook_sink`. */
export interface SinkSettings {
  workflow_id: string;
  url: string;
  /** The current secret first; the previous one too while a rotation is in progress. */
  secrets: string[];
}

/**
 * One request the sink received, as `GET /demo/webhook-sink` lists it; `signature_verified` is true
 * when `webhook-signature` verifies with the sink subscription's secret.
 */
export type SinkReceipt = z.infer<typeof sinkReceiptSchema>;

export class WebhookSink {
  private readonly receipts: SinkReceipt[] = [];
  private settings: SinkSettings | null = null;

  constructor(private readonly capacity = 50) {}

  configure(settings: SinkSettings | null): void {
    this.settings = settings;
  }

  current(): SinkSettings | null {
    return this.settings;
  }

  record(headers: IncomingHttpHeaders, rawBody: string, body: unknown, now: number): SinkReceipt {
    const events = Array.isArray(body) ? body : [];
    const receipt: SinkReceipt = {
      received_at: new Date(now).toISOString(),
      webhook_id: single(headers['webhook-id']),
      signature_verified: this.verify(headers, rawBody),
      event_ids: events.map((e) => (typeof e?.event_id === 'string' ? e.event_id : '')).filter(Boolean).slice(0, 100),
      event_types: events.map((e) => (typeof e?.payload?.event_type === 'string' ? e.payload.event_type : null)).slice(0, 100),
      bytes: Buffer.byteLength(rawBody),
    };
    this.receipts.unshift(receipt);
    this.receipts.length = Math.min(this.receipts.length, this.capacity);
    return receipt;
  }

  list(): SinkReceipt[] {
    return this.receipts.map((r) => ({ ...r }));
  }

  private verify(headers: IncomingHttpHeaders, rawBody: string): boolean {
    const id = single(headers['webhook-id']);
    const timestamp = Number(single(headers['webhook-timestamp']));
    const sent = (single(headers['webhook-signature']) ?? '').split(' ').filter(Boolean);
    if (!this.settings || !id || !Number.isSafeInteger(timestamp) || sent.length === 0) return false;
    for (const secret of this.settings.secrets) {
      let expected: Buffer;
      try {
        expected = Buffer.from(signWebhook({ id, timestampSeconds: timestamp, body: rawBody, secrets: [secret] }));
      } catch {
        continue;
      }
      if (sent.some((candidate) => candidate.length === expected.length && timingSafeEqual(Buffer.from(candidate), expected))) return true;
    }
    return false;
  }
}

function single(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}
