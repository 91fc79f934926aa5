/**
 * The drill's three webhook receivers, each a bare node:http server on 127.0.0.1 in this process:
 *
 * - `steady` answers 200 at once; the services reach it through a TCP proxy the drill cuts once
 *   (its network goes away: open connections drop, new ones are refused);
 * - `flaky` answers 500 to a random `failRate` share of requests (30 %), 200 to the rest;
 * - `slow` answers 200 after `slowMs`.
 *
 * Every request is recorded as it arrived, lean (no headers or body kept): its `webhook-id`, the
 * event ids in its body, when it arrived and what was answered. That is what the drill's verdict
 * is computed from.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type ReceiverKind = 'steady' | 'flaky' | 'slow';
export const RECEIVER_KINDS: readonly ReceiverKind[] = ['steady', 'flaky', 'slow'];

export interface Receipt {
  receiver: ReceiverKind;
  webhookId: string;
  eventIds: string[];
  /** `Date.now()` when the whole body had arrived. */
  at: number;
  /** What was answered (it may not have reached the deliverer, e.g. through a cut proxy). */
  status: number;
}

export interface ChaosReceiver {
  readonly kind: ReceiverKind;
  readonly port: number;
  close(): Promise<void>;
}

export interface ReceiverSettings {
  failRate: number;
  slowMs: number;
}

/** The event ids of a webhook body (a JSON array of events); none if it is not one. */
export function eventIdsOf(body: string): string[] {
  try {
    const events: unknown = JSON.parse(body);
    if (!Array.isArray(events)) return [];
    return events.flatMap((e) => (typeof e?.event_id === 'string' ? [e.event_id as string] : []));
  } catch {
    return [];
  }
}

/** The ids of `ids` that no receipt carries yet (whatever the receiver answered), in `ids`' order. */
export function unarrived(receipts: readonly Receipt[], ids: ReadonlySet<string>): string[] {
  const arrived = new Set<string>();
  for (const receipt of receipts) for (const id of receipt.eventIds) if (ids.has(id)) arrived.add(id);
  return [...ids].filter((id) => !arrived.has(id));
}

export async function startChaosReceiver(kind: ReceiverKind, settings: ReceiverSettings, record: (receipt: Receipt) => void): Promise<ChaosReceiver> {
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => res.destroy());
    req.on('end', () => {
      const status = kind === 'flaky' && Math.random() < settings.failRate ? 500 : 200;
      const webhookId = String(req.headers['webhook-id'] ?? '');
      record({ receiver: kind, webhookId, eventIds: eventIdsOf(Buffer.concat(chunks).toString('utf8')), at: Date.now(), status });
      const reply = () => {
        if (res.destroyed) return;
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(status === 200 ? 'ok' : 'injected failure');
      };
      if (kind !== 'slow') return reply();
      const timer = setTimeout(() => {
        timers.delete(timer);
        reply();
      }, settings.slowMs);
      timers.add(timer);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    kind,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
