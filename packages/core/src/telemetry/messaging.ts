import { ROOT_CONTEXT, type Attributes, type Context, type Link } from '@opentelemetry/api';
import type { ReceivedMessage, Topic } from '../ports/queue.ts';
import { SpanKind, contextFromTraceparent, inSpanPassedOn, messagingSystem, traceparentOf, tracingActive, untraced, type Span } from './tracing.ts';
import { LeanSpan, parseTraceparent } from './lean-span.ts';

/** The most links a span of a grouped message carries (the SDK's default OTEL_SPAN_LINK_COUNT_LIMIT). */
const MAX_LINKS = 128;

/**
 * The CONSUMER span of one queue message (`process <topic>`), continuing the trace whose
 * `traceparent` the message carries (in its body, on every queue backend), so ingest → matcher →
 * deliverer is one trace. Attributes per the OTel messaging conventions, plus `extra` (ids only).
 * The span is not made active: `work` passes it on itself (see `inSpanPassedOn`). With tracing
 * off, `work` runs at once and nothing is built.
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
    return inSpanPassedOn(`process ${topic}`, { kind: SpanKind.CONSUMER, parent: ROOT_CONTEXT, attributes, links }, work);
  }
  const parent = contextFromTraceparent(message.body.traceparent, ROOT_CONTEXT);
  return inSpanPassedOn(`process ${topic}`, { kind: SpanKind.CONSUMER, parent, attributes }, work);
}

/** The OTel messaging attributes of a send of `count` messages to `topic`, plus `extra` (ids only). */
function sendAttributes(queueKind: string | undefined, topic: Topic, count: number, extra: Attributes, into: Attributes = {}): Attributes {
  into['messaging.destination.name'] = topic;
  into['messaging.operation.type'] = 'send';
  into['messaging.operation.name'] = 'send';
  if (queueKind) into['messaging.system'] = messagingSystem(queueKind);
  if (count > 1) into['messaging.batch.message_count'] = count;
  for (const key in extra) into[key] = extra[key];
  return into;
}

/**
 * The PRODUCER span around enqueueing (`send <topic>`), a child of `parent`, not made active:
 * `work` writes `traceparentOf(span)` into the messages (see `inSpanPassedOn`).
 */
export function sendMessagesSpan<R>(
  queueKind: string | undefined,
  topic: Topic,
  count: number,
  extra: Attributes,
  work: (span: Span) => Promise<R>,
  parent: Context,
): Promise<R> {
  if (!tracingActive()) return untraced(work);
  return inSpanPassedOn(`send ${topic}`, { kind: SpanKind.PRODUCER, attributes: sendAttributes(queueKind, topic, count, extra), parent }, work);
}

/**
 * An enqueue that makes no span of its own: `span` (an ingest request's SERVER span) gets the send's
 * `messaging.*` attributes (and `extra`), and its `traceparent` is returned for the messages to
 * carry, so the consumer's span is its child (OTel messaging conventions: a send not represented by
 * a span injects the context it runs in). One span per ingest request instead of two. Undefined,
 * and nothing set, while tracing is off; an unsampled span sets nothing but still gives its
 * `traceparent`.
 */
export function annotateSendOnSpan(span: Span, queueKind: string | undefined, topic: Topic, count: number, extra: Attributes): string | undefined {
  if (!tracingActive()) return undefined;
  if (span instanceof LeanSpan) {
    // Written straight into the span's own attribute map: no object to copy from.
    if (span.isRecording()) sendAttributes(queueKind, topic, count, extra, span.attributes);
  } else if (span.isRecording()) {
    span.setAttributes(sendAttributes(queueKind, topic, count, extra));
  }
  return traceparentOf(span);
}
