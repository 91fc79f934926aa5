import { ROOT_CONTEXT, context, type Attributes, type Link } from '@opentelemetry/api';
import type { ReceivedMessage, Topic } from '../ports/queue.ts';
import { SpanKind, contextFromTraceparent, inSpan, messagingSystem, tracingActive, untraced, type Span } from './tracing.ts';
import { parseTraceparent } from './lean-span.ts';

/** The most links a span of a grouped message carries (the SDK's default OTEL_SPAN_LINK_COUNT_LIMIT). */
const MAX_LINKS = 128;

/**
 * The CONSUMER span of one queue message (`process <topic>`), continuing the trace whose
 * `traceparent` the message carries (in its body, on every queue backend), so ingest → matcher →
 * deliverer is one trace. Attributes per the OTel messaging conventions, plus `extra` (ids only).
 * With tracing off, `work` runs at once and nothing is built.
 */
export function processMessageSpan<T extends { traceparent?: string; traceparents?: string[] }, R>(
  queueKind: string,
  topic: Topic,
  message: ReceivedMessage<T>,
  extra: Attributes,
  work: (span: Span) => Promise<R>,
): Promise<R> {
  if (!tracingActive()) return untraced(work);
  // One object, written once: the span keeps it as its attribute map.
  const attributes: Attributes = {
    'messaging.system': messagingSystem(queueKind),
    'messaging.destination.name': topic,
    'messaging.operation.type': 'process',
    'messaging.operation.name': 'process',
    'messaging.message.id': message.id,
    'triggers.receive_count': message.receiveCount,
  };
  for (const key in extra) attributes[key] = extra[key];
  const contexts = message.body.traceparents;
  if (contexts) {
    // Events of several requests (traces) in one message: the span starts its own trace, linked
    // to each request's (OTel messaging conventions for batches); each event's own work continues
    // its trace (`inEventTrace`).
    const links: Link[] = [];
    for (const traceparent of contexts) {
      const remote = traceparent ? parseTraceparent(traceparent) : undefined;
      if (remote && links.length < MAX_LINKS) links.push({ context: remote });
    }
    return inSpan(`process ${topic}`, { kind: SpanKind.CONSUMER, parent: ROOT_CONTEXT, attributes, links }, work);
  }
  return inSpan(`process ${topic}`, { kind: SpanKind.CONSUMER, parent: contextFromTraceparent(message.body.traceparent, ROOT_CONTEXT), attributes }, work);
}

/**
 * Runs the work of one event of a grouped message in that event's own trace (its request's
 * `traceparent`), so what it enqueues (the deliveries) continues the trace of the request that
 * accepted the event. With tracing off, or no context, `work` runs as is.
 */
export function inEventTrace<R>(traceparent: string | undefined, work: () => R): R {
  if (!tracingActive() || !traceparent) return work();
  return context.with(contextFromTraceparent(traceparent, ROOT_CONTEXT), work);
}

/** The PRODUCER span around enqueueing (`send <topic>`); its context is what the messages carry. */
export function sendMessagesSpan<R>(queueKind: string | undefined, topic: Topic, count: number, extra: Attributes, work: (span: Span) => Promise<R>): Promise<R> {
  if (!tracingActive()) return untraced(work);
  const attributes: Attributes = {
    'messaging.destination.name': topic,
    'messaging.operation.type': 'send',
    'messaging.operation.name': 'send',
  };
  if (queueKind) attributes['messaging.system'] = messagingSystem(queueKind);
  if (count > 1) attributes['messaging.batch.message_count'] = count;
  for (const key in extra) attributes[key] = extra[key];
  return inSpan(`send ${topic}`, { kind: SpanKind.PRODUCER, attributes }, work);
}
