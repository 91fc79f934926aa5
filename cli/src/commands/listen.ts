import { signWebhook, type EventSelector, type StreamedEvent } from '@triggers/sdk';
import type { CommandContext } from '../context.ts';
import { UsageError } from '../exit-codes.ts';
import { selectorFromFlags } from './subscriptions.ts';

export interface ListenFlags {
  forwardTo: string;
  eventType?: string;
  selector?: string;
  secret?: string;
  forwardTimeout?: string;
}

/** What real deliveries send as `User-Agent` (API.md). */
const WEBHOOK_USER_AGENT = 'Zapier-Triggers-API/1.0';

/**
 * `triggers listen --forward-to URL`: streams the customer's matching events from the server
 * (`GET /api/v1/events/stream?selector=...`, so a server that cannot reach this machine still
 * works) and POSTs each to the local URL with the body and Standard Webhooks headers a real
 * delivery has, signed with this session's secret (or `--secret`, e.g. the one your handler
 * already checks). Prints the local answer's status and latency per event.
 *
 * No subscription is created: the stream filters by the selector itself, so no webhook URL has
 * to be registered, no failed deliveries pile up, and there is nothing to clean up on exit.
 */
export async function listenCommand(ctx: CommandContext, flags: ListenFlags, signal: AbortSignal): Promise<void> {
  let target: URL;
  try {
    target = new URL(flags.forwardTo);
    if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error();
  } catch {
    throw new UsageError(`--forward-to must be an http(s) URL, not "${flags.forwardTo}".`);
  }
  if (flags.secret !== undefined && !/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(flags.secret)) throw new UsageError('--secret must look like whsec_<base64>.');
  const timeoutMs = flags.forwardTimeout === undefined ? 30_000 : Number(flags.forwardTimeout) * 1000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new UsageError('--forward-timeout must be a positive number of seconds.');
  const selector = selectorFromFlags(flags, false);
  const secret = flags.secret ?? newSecret();
  const client = ctx.client();

  const events = client.events.stream({
    selector,
    signal,
    onOpen: ({ reconnect }) => {
      if (reconnect) return ctx.note('Reconnected; resuming after the last event.');
      if (ctx.json) ctx.printJson({ type: 'ready', forward_to: target.href, selector: selector ?? null, secret }, true);
      else {
        ctx.note(`Ready. Forwarding ${describe(selector)} to ${target.href} (Ctrl-C to stop).`);
        ctx.note(`Webhook signing secret for this session: ${secret}`);
      }
    },
    onDisconnect: ({ reason }) => ctx.note(`Stream interrupted (${reason}); reconnecting…`),
  });
  for await (const event of events) {
    await forward(ctx, target, secret, event, timeoutMs);
  }
}

async function forward(ctx: CommandContext, target: URL, secret: string, event: StreamedEvent, timeoutMs: number): Promise<void> {
  // The delivery body of API.md: a JSON array of events.
  const body = JSON.stringify([{ event_id: event.event_id, customer_id: event.customer_id, payload: event.payload, timestamp: event.timestamp }]);
  const webhookId = `msg_${event.event_id.replaceAll('-', '')}`;
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = {
    'content-type': 'application/json',
    'user-agent': WEBHOOK_USER_AGENT,
    'webhook-id': webhookId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': await signWebhook(secret, webhookId, timestamp, body),
  };
  const started = performance.now();
  const type = typeof event.payload.event_type === 'string' ? event.payload.event_type : '-';
  try {
    const response = await fetch(target, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer().catch(() => undefined);
    const latencyMs = Math.round(performance.now() - started);
    if (ctx.json) ctx.printJson({ type: 'forwarded', event_id: event.event_id, webhook_id: webhookId, status: response.status, latency_ms: latencyMs }, true);
    else ctx.line(`${new Date().toISOString()}  ${event.event_id}  ${type}  → ${response.status} ${response.statusText}  ${latencyMs} ms`);
  } catch (error) {
    const latencyMs = Math.round(performance.now() - started);
    const reason = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
    if (ctx.json) ctx.printJson({ type: 'failed', event_id: event.event_id, webhook_id: webhookId, error: reason, latency_ms: latencyMs }, true);
    else ctx.line(`${new Date().toISOString()}  ${event.event_id}  ${type}  → failed: ${reason}  ${latencyMs} ms`);
  }
}

function describe(selector: EventSelector | undefined): string {
  if (!selector) return 'every event';
  if (selector.type === 'event_type') return `events of type ${selector.value}`;
  return `events matching ${JSON.stringify(selector)}`;
}

function newSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return `whsec_${Buffer.from(bytes).toString('base64')}`;
}
